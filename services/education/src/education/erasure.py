"""Erasing one resident from education. What it knows from housing about them goes, and
so do their requests' and referrals' records; their enrolments, and the Kita or school
requests made for them as a child, become anonymous stand-ins that keep the figures
(seats, waitlists, completions, pass rates, open requests). Courses keep their seat
lists, with anonymous ids in place of theirs; a parent's enrolment loses them as a child.

An active seat or waitlist place stays taken by the stand-in (the figures do not move):
it is promoted, released or cancelled with the course like any other, without events."""

from __future__ import annotations

from typing import Any

from education import store
from im_runtime import UnitOfWork
from im_runtime.anonymous import replace, stand_in_id
from im_runtime.spec import Erased

ACTIVE = ("confirmed", "waitlisted")


async def erase(resident_id: str, uow: UnitOfWork) -> Erased:
    done = Erased()
    renamed = await _enrolments(uow, resident_id, done)
    await _as_child(uow, resident_id, done)
    for course in await uow.find(store.COURSES):  # all: a seat may outlive its enrolment
        if _scrub(course, resident_id, renamed):
            uow.put(store.COURSES, course)
            done.count(store.COURSES, anonymised=True)
    requests = await _access(uow, resident_id, done)
    await _referrals(uow, resident_id, [*renamed, *requests], done)
    if await uow.get(store.RESIDENTS, resident_id) is not None:
        await uow.delete(store.RESIDENTS, resident_id)
        done.count(store.RESIDENTS)
    return done


async def _enrolments(uow: UnitOfWork, resident_id: str, done: Erased) -> dict[str, str]:
    """Their enrolments as stand-ins; returns enrolment id -> its stand-in's id."""
    renamed = {}
    for enr in await uow.find(store.ENROLMENTS, {"resident_id": resident_id}):
        active = enr["status"] in ACTIVE
        renamed[enr["_id"]] = anon = stand_in_id()
        await replace(uow, store.ENROLMENTS, enr, {
            "course_id": enr["course_id"], "course_kind": enr.get("course_kind"),
            "status": enr["status"], "passed": enr.get("passed"),
            "site_id": enr.get("site_id") if active else None,  # residents enrolled per site
        }, done, id=anon)
    return renamed


async def _as_child(uow: UnitOfWork, resident_id: str, done: Erased) -> None:
    """A parent's enrolment no longer lists them among its children."""
    for enr in await uow.find(store.ENROLMENTS, {"children": resident_id}):
        enr["children"] = [c for c in enr["children"] if c != resident_id]
        uow.put(store.ENROLMENTS, enr)
        done.count(store.ENROLMENTS, anonymised=True)


def _scrub(course: dict[str, Any], resident_id: str, renamed: dict[str, str]) -> bool:
    """Anonymous ids in the course's lists wherever they name the resident; their own
    children's places (the family's link to them) get anonymous ids too."""
    mine = {x["e"] for x in course["seats"] + course["waitlist"]
            if x["e"] in renamed or x["r"] == resident_id}
    alias: dict[str, str] = {}
    changed = False
    for entry in course["seats"] + course["waitlist"]:
        if entry["e"] in mine:
            entry |= {"e": renamed.get(entry["e"], entry["e"]), "r": stand_in_id(),
                      "k": [alias.setdefault(k, stand_in_id()) for k in entry["k"]]}
            changed = True
        elif resident_id in entry["k"]:  # not counted: a later seat brings no place for them
            entry["k"] = [k for k in entry["k"] if k != resident_id]
            changed = True
    for care in course["care"] + course["care_waitlist"]:
        if care["e"] in mine:
            care |= {"e": renamed.get(care["e"], care["e"]),
                     "c": alias.setdefault(care["c"], stand_in_id())}
            changed = True
        elif care["c"] == resident_id:  # their childcare place stays counted
            care["c"] = stand_in_id()
            changed = True
    return changed


async def _access(uow: UnitOfWork, resident_id: str, done: Erased) -> list[str]:
    """Requests for them as a child become stand-ins; as a parent they are struck off.
    Returns the ids their requests had."""
    mine = await uow.find(store.ACCESS, {"resident_id": resident_id})
    for doc in mine:
        await replace(uow, store.ACCESS, doc, {
            "kind": doc["kind"], "status": doc["status"], "open": doc["open"],
            "site_id": doc.get("site_id") if doc["open"] else None,  # open requests per site
        }, done)
    for doc in await uow.find(store.ACCESS, {"parent_id": resident_id}):
        doc["parent_id"] = None
        uow.put(store.ACCESS, doc)
        done.count(store.ACCESS, anonymised=True)
    return [d["_id"] for d in mine]


async def _referrals(uow: UnitOfWork, resident_id: str, references: list[str],
                     done: Erased) -> None:
    """The referral ledger's entries about them: by resident, and by what they led to."""
    found = await uow.find(store.REFERRALS, {"resident_id": resident_id})
    found += await uow.find(store.REFERRALS, {"reference": {"$in": references}})
    for id in {d["_id"] for d in found}:
        await uow.delete(store.REFERRALS, id)
        done.count(store.REFERRALS)
