"""The resident registry: the only place that holds names and contact data."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from contracts.housing import ResidenceStatusChanged, ResidentPlaced, ResidentRegistered
from contracts.housing_commands import (
    ChangeResidenceStatus,
    GetResident,
    ListResidents,
    RegisterResident,
    ResidentPage,
    ResidentRecord,
)
from housing import store
from housing.domain import check_room
from im_runtime import Conflict, Forbidden, UnitOfWork
from im_runtime.access import STAFF, require_role, require_site
from im_runtime.privacy import refuse_if_erased


def record(doc: dict[str, Any]) -> ResidentRecord:
    return ResidentRecord(
        resident_id=doc["_id"], household_id=doc["household_id"], given_name=doc["given_name"],
        family_name=doc["family_name"], birth_year=doc["birth_year"],
        languages=doc["languages"], residence_status=doc["residence_status"],
        arrival_date=doc["arrival_date"], phone=doc.get("phone"), site_id=doc.get("site_id"))


async def register_resident(cmd: RegisterResident, uow: UnitOfWork, *,
                            new_household: bool = False) -> ResidentRecord:
    """`new_household`: the household is being registered in this same command
    (`register_household`), so its later members join nobody's existing household."""
    require_role(cmd.actor, STAFF, "register residents")
    rid = cmd.resident_id or f"r-{uuid.uuid4().hex[:12]}"
    if cmd.resident_id is not None:
        await refuse_if_erased(uow, rid)
    if await uow.get(store.RESIDENTS, rid) is not None:
        raise Conflict(f"resident {rid!r} is already registered", details={"resident_id": rid})
    if cmd.household_id:
        hh = await uow.get(store.HOUSEHOLDS, cmd.household_id) or {
            "_id": cmd.household_id, "member_ids": [], "site_id": None, "case_id": None}
    else:
        hh = {"_id": f"h-{uuid.uuid4().hex[:12]}", "member_ids": [], "site_id": None,
              "case_id": None}
    if hh["member_ids"] and not new_household:
        require_site(cmd.actor, hh["site_id"], "add residents to this household")
    site = await store.site(uow, hh["site_id"]) if hh["site_id"] else None
    if site is not None:  # joining a placed household: placed with it, counted at its site
        check_room(site, 1, False, None)
        site["occupancy"] += 1
        uow.put(store.SITES, site)
    hh["member_ids"].append(rid)
    hh["moved_out_on"] = None  # a household with a new member is current again (retention)
    doc = {"_id": rid, "household_id": hh["_id"], "given_name": cmd.given_name,
           "family_name": cmd.family_name,
           "name_key": f"{cmd.given_name} {cmd.family_name}".lower(),
           "birth_year": cmd.birth_year, "languages": list(cmd.languages),
           "residence_status": cmd.residence_status, "arrival_date": cmd.arrival_date.isoformat(),
           "phone": cmd.phone, "site_id": hh["site_id"],
           "placements": [{"site_id": hh["site_id"], "since": date.today().isoformat(),
                           "until": None, "override": False}] if site else []}
    uow.put(store.RESIDENTS, doc)
    uow.put(store.HOUSEHOLDS, hh)
    uow.emit(ResidentRegistered(resident_id=rid, household_id=hh["_id"],
                                birth_year=cmd.birth_year, languages=list(cmd.languages),
                                residence_status=cmd.residence_status,
                                arrival_date=cmd.arrival_date))
    if site is not None:
        uow.emit(ResidentPlaced(resident_id=rid, household_id=hh["_id"], site_id=site["_id"],
                                operator_id=site.get("operator_id"), moved_in=date.today()))
    return record(doc)


async def change_status(cmd: ChangeResidenceStatus, uow: UnitOfWork) -> ResidentRecord:
    require_role(cmd.actor, STAFF, "change residence status")
    doc = await store.resident(uow, cmd.resident_id)
    require_site(cmd.actor, doc.get("site_id"), "change this resident's status")
    if doc["residence_status"] != cmd.residence_status:
        doc["residence_status"] = cmd.residence_status
        uow.put(store.RESIDENTS, doc)
        uow.emit(ResidenceStatusChanged(resident_id=cmd.resident_id,
                                        residence_status=cmd.residence_status))
    return record(doc)


async def get_resident(cmd: GetResident, uow: UnitOfWork) -> ResidentRecord:
    require_role(cmd.actor, (*STAFF, "operator"), "read residents' personal data")
    doc = await store.resident(uow, cmd.resident_id)
    require_site(cmd.actor, doc.get("site_id"), "read this resident")
    if cmd.actor.role == "operator":
        site = await uow.get(store.SITES, doc.get("site_id") or "")
        if not site or site.get("operator_id") != cmd.actor.operator:
            raise Forbidden("this resident does not live in one of the operator's shelters",
                            details={"resident_id": cmd.resident_id})
    return record(doc)


async def list_residents(cmd: ListResidents, uow: UnitOfWork) -> ResidentPage:
    require_role(cmd.actor, STAFF, "list residents")
    if cmd.actor.role == "social_worker":
        require_site(cmd.actor, cmd.site_id, "list residents")
    flt: dict[str, Any] = dict(store.PEOPLE_ONLY)  # stand-ins of erased residents are nobody
    if cmd.site_id:
        flt["site_id"] = cmd.site_id
    order = [("family_name", 1), ("_id", 1)]
    if not cmd.q:
        docs = await uow.find(store.RESIDENTS, flt, sort=order, skip=cmd.offset, limit=cmd.limit)
        return ResidentPage(items=[record(d) for d in docs],
                            total=await uow.count(store.RESIDENTS, flt),
                            offset=cmd.offset, limit=cmd.limit)
    needle = cmd.q.lower()
    found = [d for d in await uow.find(store.RESIDENTS, flt, sort=order)
             if needle in d.get("name_key", "") or needle == d["_id"]]
    return ResidentPage(items=[record(d) for d in found[cmd.offset: cmd.offset + cmd.limit]],
                        total=len(found), offset=cmd.offset, limit=cmd.limit)
