"""Rectification (Art. 16 GDPR): a resident's record corrected, a member moved to another
household, a household split or two merged. Names and contact data change only here;
each change is announced with `ResidentCorrected`, which carries the facts others keep
(household, birth year, languages; never names), so their projections follow.

Households that move members between them must live at the same site (or neither be
placed): moving someone to another site is a placement, not a correction. A household
with an open move-out case keeps its members until the case is closed."""

from __future__ import annotations

import uuid
from typing import Any

from contracts.housing import ResidentCorrected
from contracts.housing_commands import (
    CorrectResident,
    HouseholdView,
    MergeHouseholds,
    MoveMember,
    ResidentRecord,
    SplitHousehold,
)
from housing import store
from housing.residents import record
from im_runtime import Conflict, DomainError, UnitOfWork
from im_runtime.access import STAFF, require_role, require_site

NAMES = ("given_name", "family_name")


def _announce(uow: UnitOfWork, doc: dict[str, Any], corrected: list[str],
              from_household: str | None = None) -> None:
    uow.emit(ResidentCorrected(resident_id=doc["_id"], household_id=doc["household_id"],
                               birth_year=doc["birth_year"], languages=list(doc["languages"]),
                               corrected=sorted(corrected), from_household_id=from_household))


async def correct_resident(cmd: CorrectResident, uow: UnitOfWork) -> ResidentRecord:
    require_role(cmd.actor, STAFF, "correct residents' personal data")
    doc = await store.resident(uow, cmd.resident_id)
    require_site(cmd.actor, doc.get("site_id"), "correct this resident's data")
    wanted: dict[str, Any] = {k: getattr(cmd, k) for k in (
        "given_name", "family_name", "birth_year", "languages", "phone")
        if getattr(cmd, k) is not None}
    if cmd.clear_phone:
        if cmd.phone is not None:
            raise DomainError("give a new phone number or clear it, not both",
                              details={"field": "clear_phone"})
        wanted["phone"] = None
    if not wanted:
        raise DomainError("nothing to correct: give at least one field",
                          details={"field": "resident_id"})
    changed = sorted(k for k, v in wanted.items() if doc.get(k) != v)
    if not changed:
        return record(doc)  # asked again: already so
    doc.update(wanted)
    doc["name_key"] = f"{doc['given_name']} {doc['family_name']}".lower()
    uow.put(store.RESIDENTS, doc)
    _announce(uow, doc, changed)
    return record(doc)


async def _free(uow: UnitOfWork, hh: dict[str, Any]) -> None:
    if hh.get("case_id"):
        case = await uow.get(store.CASES, hh["case_id"])
        if case is not None and case.get("open"):
            raise Conflict(f"household {hh['_id']} has an open move-out case; close or "
                           "cancel it before its members change",
                           details={"household_id": hh["_id"], "case_id": hh["case_id"]})


async def _move(uow: UnitOfWork, people: list[dict[str, Any]], source: dict[str, Any],
                target: dict[str, Any]) -> None:
    """Move these members of `source` into `target` (same site), with their events."""
    if source.get("site_id") != target.get("site_id"):
        raise Conflict("the households live at different sites: place or transfer first",
                       details={"household_id": target["_id"],
                                "site_id": target.get("site_id") or ""})
    ids = {p["_id"] for p in people}
    if not target["member_ids"]:  # a new household: as current as the one they leave
        target["moved_out_on"] = source.get("moved_out_on")
    source["member_ids"] = [m for m in source["member_ids"] if m not in ids]
    target["member_ids"] = [*target["member_ids"], *(p["_id"] for p in people)]
    for person in people:
        person["household_id"] = target["_id"]
        uow.put(store.RESIDENTS, person)
        if not person.get("anonymised"):  # an erased member's stand-in moves silently
            _announce(uow, person, ["household_id"], from_household=source["_id"])
    uow.put(store.HOUSEHOLDS, target)
    if source["member_ids"]:
        uow.put(store.HOUSEHOLDS, source)
    else:
        await uow.delete(store.HOUSEHOLDS, source["_id"])


def _new_household(site_id: str | None, household_id: str | None = None) -> dict[str, Any]:
    return {"_id": household_id or f"h-{uuid.uuid4().hex[:12]}", "member_ids": [],
            "site_id": site_id, "case_id": None, "moved_out_on": None}


async def _staff(cmd: Any, *households: dict[str, Any]) -> None:
    require_role(cmd.actor, STAFF, "change households")
    for hh in households:
        require_site(cmd.actor, hh.get("site_id"), "change this household")


def _view(hh: dict[str, Any]) -> HouseholdView:
    return HouseholdView(household_id=hh["_id"], resident_ids=list(hh["member_ids"]),
                         site_id=hh.get("site_id"))


async def move_member(cmd: MoveMember, uow: UnitOfWork) -> HouseholdView:
    person = await store.resident(uow, cmd.resident_id)
    source = await store.household(uow, person["household_id"])
    target = (await store.household(uow, cmd.household_id) if cmd.household_id
              else _new_household(source.get("site_id")))
    await _staff(cmd, source, target)
    if target["_id"] == source["_id"]:
        raise Conflict(f"resident {cmd.resident_id} is in household {source['_id']} already",
                       details={"household_id": source["_id"]})
    await _free(uow, source)
    await _free(uow, target)
    await _move(uow, [person], source, target)
    return _view(target)


async def split_household(cmd: SplitHousehold, uow: UnitOfWork) -> HouseholdView:
    source = await store.household(uow, cmd.household_id)
    await _staff(cmd, source)
    leaving = sorted(set(cmd.member_ids))
    strangers = [r for r in leaving if r not in source["member_ids"]]
    if strangers:
        raise DomainError(f"not members of household {source['_id']}: {', '.join(strangers)}",
                          details={"field": "member_ids"})
    if len(leaving) >= len(source["member_ids"]):
        raise DomainError("a split leaves at least one member in the household",
                          details={"field": "member_ids"})
    if cmd.new_household_id and await uow.get(store.HOUSEHOLDS, cmd.new_household_id):
        raise Conflict(f"household {cmd.new_household_id!r} is already registered",
                       details={"household_id": cmd.new_household_id})
    await _free(uow, source)
    target = _new_household(source.get("site_id"), cmd.new_household_id)
    people = [await store.resident(uow, r) for r in leaving]
    await _move(uow, people, source, target)
    return _view(target)


async def merge_households(cmd: MergeHouseholds, uow: UnitOfWork) -> HouseholdView:
    if cmd.household_id == cmd.from_household_id:
        raise DomainError("a household cannot be merged into itself",
                          details={"field": "from_household_id"})
    target = await store.household(uow, cmd.household_id)
    source = await store.household(uow, cmd.from_household_id)
    await _staff(cmd, source, target)
    await _free(uow, source)
    await _free(uow, target)
    await _move(uow, await store.members(uow, source), source, target)
    return _view(target)
