"""Plans' picture of households from housing's events: members, and the site the
household lives at (from the latest placement, transfer or move-out of any member, by
event time), which decides whose worklist a plan is on. Later facts win and membership
is a set, so events that come twice or out of order leave the same state."""

from __future__ import annotations

from typing import Any

from contracts import CloudEvent
from contracts.housing import (
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
    resident["household_id"] = data.household_id
    household = await uow.get(store.HOUSEHOLDS, data.household_id)
    before = clone(household) if household else None
    household = household or {"_id": data.household_id, "members": [], "site_id": None,
                              "site_at": None, "plan_id": None, "left_city_on": None}
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


CONSUMES = (ResidentRegistered, ResidentPlaced, ResidentTransferred, ResidentMovedOut)
