"""Placements: households move in, transfer and move out together; occupancy per site
changes in the same commit as the residents, so it is always right."""

from __future__ import annotations

from datetime import date
from typing import Any

from contracts import Actor
from contracts.housing import ResidentMovedOut, ResidentPlaced, ResidentTransferred
from contracts.housing_commands import MoveOutHousehold, Placed, PlaceHousehold
from housing import store
from housing.domain import check_room
from im_runtime import Conflict, UnitOfWork
from im_runtime.access import STAFF, require_role, require_site


async def place_household(cmd: PlaceHousehold, uow: UnitOfWork) -> Placed:
    require_role(cmd.actor, STAFF, "place residents")
    hh = await store.household(uow, cmd.household_id)
    target = await store.site(uow, cmd.site_id)
    require_site(cmd.actor, cmd.site_id, "place residents there")
    people = await store.members(uow, hh)
    if hh.get("site_id") == cmd.site_id:
        raise Conflict(f"household {hh['_id']} already lives at {cmd.site_id}",
                       details={"household_id": hh["_id"], "site_id": cmd.site_id})
    check_room(target, len(people), cmd.emergency_override, cmd.override_reason)
    if target["occupancy"] + len(people) > target["capacity"]:
        uow.put(store.OVERRIDES, {
            "_id": f"{cmd.command_id}", "site_id": cmd.site_id, "household_id": hh["_id"],
            "reason": cmd.override_reason, "by": cmd.actor.subject, "on": cmd.on.isoformat(),
            "occupancy_before": target["occupancy"], "capacity": target["capacity"]})
    source = None
    if hh.get("site_id"):
        source = await store.site(uow, hh["site_id"])
        require_site(cmd.actor, source["_id"], "move residents away from there")
        source["occupancy"] -= len(people)
        uow.put(store.SITES, source)
    target["occupancy"] += len(people)
    uow.put(store.SITES, target)
    hh["site_id"], hh["moved_out_on"] = cmd.site_id, None
    uow.put(store.HOUSEHOLDS, hh)
    case = await uow.get(store.CASES, hh["case_id"]) if hh.get("case_id") else None
    if case is not None and case["open"]:  # an open move-out case follows the household
        case["site_id"] = cmd.site_id
        uow.put(store.CASES, case)
    for person in people:
        _move(person, cmd.site_id, cmd.on, cmd.emergency_override)
        uow.put(store.RESIDENTS, person)
        if source is None:
            uow.emit(ResidentPlaced(
                resident_id=person["_id"], household_id=hh["_id"], site_id=cmd.site_id,
                operator_id=target.get("operator_id"), moved_in=cmd.on,
                emergency_override=cmd.emergency_override))
        else:
            uow.emit(ResidentTransferred(
                resident_id=person["_id"], household_id=hh["_id"], from_site_id=source["_id"],
                from_operator_id=source.get("operator_id"), site_id=cmd.site_id,
                operator_id=target.get("operator_id"), moved_on=cmd.on,
                emergency_override=cmd.emergency_override))
    return Placed(household_id=hh["_id"], site_id=cmd.site_id,
                  resident_ids=[p["_id"] for p in people],
                  kind="placed" if source is None else "transferred",
                  occupancy=target["occupancy"], capacity=target["capacity"])


def _move(person: dict[str, Any], site_id: str | None, on: date, override: bool,
          reason: str | None = None) -> None:
    history = person.setdefault("placements", [])
    if history and history[-1]["until"] is None:
        history[-1]["until"] = on.isoformat()
        history[-1]["end_reason"] = reason or "transferred"
    if site_id is not None:
        history.append({"site_id": site_id, "since": on.isoformat(), "until": None,
                        "override": override})
    person["site_id"] = site_id
    person["moved_out_on"] = None if site_id else on.isoformat()  # retention counts from it


async def end_placement(uow: UnitOfWork, actor: Actor, hh: dict[str, Any], reason: str,
                        on: date) -> str:
    """Move a household out of its site, freeing its places; returns the site left."""
    if not hh.get("site_id"):
        raise Conflict(f"household {hh['_id']} has no active placement",
                       details={"household_id": hh["_id"]})
    site = await store.site(uow, hh["site_id"])
    require_site(actor, site["_id"], "move residents out of this site")
    people = await store.members(uow, hh)
    site["occupancy"] -= len(people)
    uow.put(store.SITES, site)
    hh["site_id"], hh["moved_out_on"] = None, on.isoformat()
    uow.put(store.HOUSEHOLDS, hh)
    for person in people:
        _move(person, None, on, False, reason)
        uow.put(store.RESIDENTS, person)
        uow.emit(ResidentMovedOut(resident_id=person["_id"], household_id=hh["_id"],
                                  site_id=site["_id"], operator_id=site.get("operator_id"),
                                  reason=reason, moved_out=on))  # type: ignore[arg-type]
    return str(site["_id"])


async def move_out_household(cmd: MoveOutHousehold, uow: UnitOfWork) -> Placed:
    require_role(cmd.actor, STAFF, "move residents out")
    hh = await store.household(uow, cmd.household_id)
    site_id = await end_placement(uow, cmd.actor, hh, cmd.reason, cmd.on)
    site = await store.site(uow, site_id)
    return Placed(household_id=hh["_id"], site_id=site_id, resident_ids=hh["member_ids"],
                  kind="moved_out", occupancy=site["occupancy"], capacity=site["capacity"])
