"""Volunteers' commands: the registry, proposing by hand, and a match's way through
agreed and active to ended (with feedback, which stays in this service)."""

from __future__ import annotations

from datetime import date
from typing import Any

from contracts import utcnow
from im_runtime import Conflict, UnitOfWork
from im_runtime.access import STAFF, require_role
from im_runtime.ids import derived
from im_runtime.privacy import refuse_if_erased
from volunteers import store
from volunteers.contracts import (
    AgreeMatch,
    EndMatch,
    GetVolunteer,
    ListVolunteers,
    MatchAgreed,
    MatchEnded,
    MatchStarted,
    MatchView,
    ProposeMatch,
    RegisterVolunteer,
    StartMatch,
    VolunteerPage,
    VolunteerRegistered,
    VolunteerView,
)
from volunteers.domain import OPEN_STATES, checked, free, transition
from volunteers.matching import fill_open_requests, propose, started


async def volunteer_view(uow: UnitOfWork, doc: dict[str, Any]) -> VolunteerView:
    matches = await uow.find(store.MATCHES, {"volunteer_id": doc["_id"]}, sort=[("_id", 1)])
    check = doc.get("background_check_on")
    return VolunteerView(
        volunteer_id=doc["_id"], name=doc["name"], languages=doc["languages"],
        skills=doc["skills"], districts=doc["districts"], availability=doc["availability"],
        offers=doc["offers"], capacity=doc["capacity"], load=doc["load"],
        background_check_on=date.fromisoformat(check) if check else None,
        matches=[m["_id"] for m in matches], left_at=doc.get("left_at"))


def match_view(doc: dict[str, Any]) -> MatchView:
    return MatchView(match_id=doc["_id"], volunteer_id=doc["volunteer_id"],
                     resident_id=doc["resident_id"], offer=doc["offer"], state=doc["state"],
                     outcome=doc.get("outcome"), rating=doc.get("rating"))


async def register_volunteer(cmd: RegisterVolunteer, uow: UnitOfWork) -> VolunteerView:
    require_role(cmd.actor, STAFF, "register volunteers")
    if await uow.get(store.VOLUNTEERS, cmd.volunteer_id) is not None:
        raise Conflict(f"volunteer {cmd.volunteer_id} is registered already",
                       details={"volunteer_id": cmd.volunteer_id})
    await refuse_if_erased(uow, cmd.volunteer_id, field="volunteer_id")
    check = cmd.background_check_on.isoformat() if cmd.background_check_on else None
    languages = sorted(set(cmd.languages))
    doc: dict[str, Any] = {
        "_id": cmd.volunteer_id, "name": cmd.name, "languages": languages,
        "skills": cmd.skills, "districts": cmd.districts, "availability": cmd.availability,
        "offers": cmd.offers, "capacity": cmd.capacity, "load": 0,
        "background_check_on": check}
    uow.put(store.VOLUNTEERS, doc)
    uow.emit(VolunteerRegistered(
        volunteer_id=cmd.volunteer_id, languages=languages, skills=cmd.skills,
        districts=cmd.districts, availability=cmd.availability, offers=cmd.offers,
        capacity=cmd.capacity, background_check_on=cmd.background_check_on))
    await fill_open_requests(uow, doc, utcnow().date())
    return await volunteer_view(uow, doc)


async def get_volunteer(cmd: GetVolunteer, uow: UnitOfWork) -> VolunteerView:
    require_role(cmd.actor, (*STAFF, "auditor"), "read volunteers")
    return await volunteer_view(uow, await store.volunteer(uow, cmd.volunteer_id))


async def list_volunteers(cmd: ListVolunteers, uow: UnitOfWork) -> VolunteerPage:
    require_role(cmd.actor, (*STAFF, "auditor"), "list volunteers")
    # Few volunteers (dozens), and offers and districts are lists: filtered here.
    docs = [d for d in await uow.find(store.VOLUNTEERS, sort=[("name", 1), ("_id", 1)])
            if (cmd.offer is None or cmd.offer in d["offers"])
            and (cmd.district is None or cmd.district in d["districts"])
            and (not cmd.free_only or free(d) > 0)]
    page = docs[cmd.offset:cmd.offset + cmd.limit]
    return VolunteerPage(items=[await volunteer_view(uow, d) for d in page], total=len(docs),
                         offset=cmd.offset, limit=cmd.limit)


async def propose_match(cmd: ProposeMatch, uow: UnitOfWork) -> MatchView:
    require_role(cmd.actor, STAFF, "propose matches")
    volunteer = await store.volunteer(uow, cmd.volunteer_id)
    if cmd.offer not in volunteer["offers"]:
        raise Conflict(f"volunteer {cmd.volunteer_id} does not offer {cmd.offer}",
                       details={"rule": "offer", "offer": cmd.offer})
    if not checked(volunteer, utcnow().date()):
        raise Conflict(f"volunteer {cmd.volunteer_id} has no valid background check",
                       details={"rule": "background_check"})
    if free(volunteer) <= 0:
        raise Conflict(f"volunteer {cmd.volunteer_id} has no free capacity",
                       details={"rule": "capacity", "capacity": str(volunteer["capacity"])})
    request = None
    if cmd.request_id is not None:
        request = await store.need(uow, store.REQUESTS, cmd.request_id, "request")
        if not request["open"] or request["resident_id"] != cmd.resident_id:
            raise Conflict(f"request {cmd.request_id} is not open for {cmd.resident_id}",
                           details={"request_id": cmd.request_id})
    doc = propose(uow, volunteer, cmd.resident_id, cmd.offer, derived("m", cmd.command_id),
                  request)
    return match_view(doc)


async def _advance(uow: UnitOfWork, match_id: str, wanted: str) -> dict[str, Any]:
    doc = await store.match(uow, match_id)
    if doc.get("anonymised") and wanted != "ended":
        # The resident was erased: the match only holds the volunteer's place until ended.
        raise Conflict(f"match {match_id} is anonymised; it can only end",
                       details={"match_id": match_id, "state": doc["state"],
                                "wanted": wanted})
    doc["state"] = transition(doc["state"], wanted, match_id)
    uow.put(store.MATCHES, doc)
    return doc


async def agree_match(cmd: AgreeMatch, uow: UnitOfWork) -> MatchView:
    require_role(cmd.actor, STAFF, "record agreements")
    doc = await _advance(uow, cmd.match_id, "agreed")
    uow.emit(MatchAgreed(resident_id=doc["resident_id"], match_id=doc["_id"],
                         volunteer_id=doc["volunteer_id"]))
    return match_view(doc)


async def start_match(cmd: StartMatch, uow: UnitOfWork) -> MatchView:
    require_role(cmd.actor, STAFF, "start matches")
    doc = await _advance(uow, cmd.match_id, "active")
    uow.emit(MatchStarted(resident_id=doc["resident_id"], match_id=doc["_id"],
                          volunteer_id=doc["volunteer_id"]))
    await started(uow, doc)
    return match_view(doc)


async def end_match(cmd: EndMatch, uow: UnitOfWork) -> MatchView:
    require_role(cmd.actor, STAFF, "end matches")
    was = (await store.match(uow, cmd.match_id))["state"]
    doc = await _advance(uow, cmd.match_id, "ended")
    # Retention runs from the end; no free text is attached to an erased resident's match.
    doc.update(outcome=cmd.outcome, rating=cmd.rating, ended_at=utcnow(),
               feedback=None if doc.get("anonymised") else cmd.feedback)
    uow.put(store.MATCHES, doc)
    uow.emit(MatchEnded(resident_id=doc["resident_id"], match_id=doc["_id"],
                        volunteer_id=doc["volunteer_id"], was=was,  # type: ignore[arg-type]
                        outcome=cmd.outcome, rating=cmd.rating))
    if was in OPEN_STATES:
        volunteer = await store.volunteer(uow, doc["volunteer_id"])
        volunteer["load"] -= 1
        uow.put(store.VOLUNTEERS, volunteer)
        await fill_open_requests(uow, volunteer, utcnow().date())
    return match_view(doc)
