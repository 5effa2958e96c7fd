"""Plans' picture of households from housing's events: members, and the site the
household lives at (from the latest placement, transfer or move-out of any member, by
event time), which decides whose worklist a plan is on. Later facts win and membership
is a set, so events that come twice or out of order leave the same state."""

from __future__ import annotations

from typing import Any

from contracts import CloudEvent
from contracts.housing import (
    ResidentCorrected,
    ResidentMovedOut,
    ResidentPlaced,
    ResidentRegistered,
    ResidentTransferred,
    StaffAssigned,
)
from im_runtime import UnitOfWork
from im_runtime.unit_of_work import clone
from plans import ledger, store

RANK: dict[type, int] = {ResidentPlaced: 0, ResidentTransferred: 1, ResidentMovedOut: 2}
MOVED_AWAY = ("other_municipality", "departed")


async def on_resident(event: CloudEvent[Any], uow: UnitOfWork) -> None:
    data = event.data
    resident = await uow.get(store.RESIDENTS, data.resident_id) or {
        "_id": data.resident_id, "household_id": data.household_id}
    hid, left = await _household_of(uow, event, resident)
    resident["household_id"] = hid
    household = await uow.get(store.HOUSEHOLDS, hid)
    before = clone(household) if household else None
    household = household or {"_id": hid, "members": [], "site_id": None, "site_at": None,
                              "plan_id": None, "left_city_on": None,
                              **_where(left)}  # split off: where the old one lives
    household["members"] = sorted({*household["members"], data.resident_id})
    rank = RANK.get(type(data))
    at = [event.time.timestamp(), rank]
    if rank is not None and (household["site_at"] is None or at >= household["site_at"]):
        moved_out = isinstance(data, ResidentMovedOut)
        household["site_id"] = None if moved_out else data.site_id
        household["site_at"] = at
        # Retention runs from leaving the city (a flat of their own keeps them here).
        away = moved_out and data.reason in MOVED_AWAY
        household["left_city_on"] = data.moved_out.isoformat() if away else None
    resident["left_city_on"] = household["left_city_on"]
    uow.put(store.RESIDENTS, resident)
    if household == before:
        return
    uow.put(store.HOUSEHOLDS, household)
    await ledger.household_moved(uow, before, household)
    if household.get("plan_id") and (before or {}).get("site_id") != household["site_id"]:
        await follow(uow, household)


async def follow(uow: UnitOfWork, household: dict[str, Any]) -> None:
    """The household's open plan moves to the worklist of the site it lives at now."""
    plan = await uow.get(store.PLANS, household["plan_id"])
    if plan is None or plan.get("site_id") == household["site_id"]:
        return
    before = clone(plan)
    plan["site_id"] = household["site_id"]
    uow.put(store.PLANS, plan)
    await ledger.record(uow, before, plan)


async def on_staff_assigned(event: CloudEvent[StaffAssigned], uow: UnitOfWork) -> None:
    """The sites a social worker is deployed to (the latest deployment wins): their
    worklist names those sites' households without a plan."""
    at = event.time.timestamp()
    staff = await uow.get(store.STAFF, event.data.staff_id)
    if staff is not None and staff["at"] > at:
        return
    uow.put(store.STAFF, {"_id": event.data.staff_id, "sites": sorted(event.data.site_ids),
                          "at": at})


async def _household_of(uow: UnitOfWork, event: CloudEvent[Any], resident: dict[str, Any]
                        ) -> tuple[str, dict[str, Any] | None]:
    """The household the resident belongs to after this event, and the one a correction
    (Art. 16: a move, a split, a merge) took them out of. A fact older than the latest
    correction keeps the corrected household."""
    data, at = event.data, event.time.timestamp()
    if not isinstance(data, ResidentCorrected):
        late = resident.get("household_at", 0.0) > at
        return (resident["household_id"] if late else data.household_id), None
    if resident.get("household_at", 0.0) > at:
        return resident["household_id"], None
    resident["household_at"] = at
    left = None
    if data.from_household_id and data.from_household_id != data.household_id:
        left = await uow.get(store.HOUSEHOLDS, data.from_household_id)
        if left is not None and data.resident_id in left["members"]:
            changed = clone(left)
            changed["members"] = [m for m in left["members"] if m != data.resident_id]
            if changed["members"] or changed.get("plan_id"):
                uow.put(store.HOUSEHOLDS, changed)
                await ledger.household_moved(uow, left, changed)
            else:  # merged into another: gone, and off the worklists
                await uow.delete(store.HOUSEHOLDS, left["_id"])
                await ledger.household_moved(uow, left, {**changed, "site_id": None})
    return data.household_id, left


def _where(household: dict[str, Any] | None) -> dict[str, Any]:
    if household is None:
        return {}
    return {k: household[k] for k in ("site_id", "site_at", "left_city_on")}


CONSUMES = (ResidentRegistered, ResidentCorrected, ResidentPlaced, ResidentTransferred,
            ResidentMovedOut)
