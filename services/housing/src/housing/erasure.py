"""Erasing one resident from housing. Their registry record goes; where the city's
figures count them (residents, move-out cases, emergency overrides) an anonymous
stand-in keeps the count; a household they shared loses every reference to them and
stays with the others. A staff member's deployment (their name and sites) goes the same
way when the erasure names them (the kinds of ids never meet).

A resident still placed keeps their place counted by the stand-in (the site's occupancy
is unchanged), and an open case of a household of one stays counted as open."""

from __future__ import annotations

from typing import Any

from housing import store
from im_runtime import UnitOfWork
from im_runtime.anonymous import is_stand_in, replace, year_month
from im_runtime.spec import Erased


async def erase(resident_id: str, uow: UnitOfWork) -> Erased:
    done = Erased()
    person = await uow.get(store.RESIDENTS, resident_id)
    if person is not None and not is_stand_in(person):
        await replace(uow, store.RESIDENTS, person, {"site_id": person.get("site_id")}, done)
    for hh in await uow.find(store.HOUSEHOLDS, {"member_ids": resident_id}):
        others = [m for m in hh["member_ids"] if m != resident_id]
        if others:
            await _leave(uow, hh, resident_id, others, done)
        else:
            await _dissolve(uow, hh, done)
    if await uow.get(store.STAFF, resident_id) is not None:
        await uow.delete(store.STAFF, resident_id)
        done.count(store.STAFF)
    return done


async def _leave(uow: UnitOfWork, hh: dict[str, Any], resident_id: str, others: list[str],
                 done: Erased) -> None:
    """The household goes on without them: its cases name the others only."""
    hh["member_ids"] = others
    uow.put(store.HOUSEHOLDS, hh)
    done.count(store.HOUSEHOLDS, anonymised=True)
    for case in await uow.find(store.CASES, {"household_id": hh["_id"]}):
        if _forget(case, resident_id, others[0]):
            uow.put(store.CASES, case)
            done.count(store.CASES, anonymised=True)


def _forget(case: dict[str, Any], resident_id: str, applicant: str) -> bool:
    """Drop the resident from a shared case (another member applies instead)."""
    referrals = [r for r in case["referrals"] if r["resident_id"] != resident_id]
    if case["applicant_id"] != resident_id and len(referrals) == len(case["referrals"]):
        return False
    if case["applicant_id"] == resident_id:
        case["applicant_id"] = applicant
    case["referrals"] = referrals
    return True


async def _dissolve(uow: UnitOfWork, hh: dict[str, Any], done: Erased) -> None:
    """A household of one goes with its cases and overrides, which stay as counts."""
    await uow.delete(store.HOUSEHOLDS, hh["_id"])
    done.count(store.HOUSEHOLDS)
    for case in await uow.find(store.CASES, {"household_id": hh["_id"]}):
        await replace(uow, store.CASES, case, {
            "stage": case["stage"], "open": case["open"],
            "site_id": case.get("site_id") if case["open"] else None,  # open cases per site
            "closed_month": year_month(case.get("closed_at"))}, done)
    for override in await uow.find(store.OVERRIDES, {"household_id": hh["_id"]}):
        await replace(uow, store.OVERRIDES, override, {
            "site_id": override["site_id"], "month": year_month(override["on"])}, done)
