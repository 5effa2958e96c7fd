"""Who waits for a language course: adults living at a city site with no seat in a
language course and no integration course passed, or on such a course's waitlist. Read
from memory: the residents of the sites asked for (indexed by site), each one's
enrolments (indexed by resident). A social worker sees her sites' residents."""

from __future__ import annotations

from datetime import date
from typing import Any

from contracts import utcnow
from contracts.education_commands import (
    LanguageWaiting,
    LanguageWaitingPage,
    ListLanguageWaiting,
)
from education import domain, store
from im_runtime import UnitOfWork
from im_runtime.access import STAFF, require_role, require_site

LANGUAGE = frozenset({"integration_course", "arrival_course", "literacy"})
ADULT = 16  # integration courses take people from 16 on


async def _sites(uow: UnitOfWork, cmd: ListLanguageWaiting) -> Any:
    if cmd.site_id is not None:
        require_site(cmd.actor, cmd.site_id, "list who waits for a language course there")
        wanted: set[str] | None = {cmd.site_id}
    else:
        wanted = set(cmd.actor.sites) if cmd.actor.role == "social_worker" else None
    if cmd.district is not None:
        there = {s["_id"] for s in await uow.find(store.SITES, {"district": cmd.district})}
        wanted = there if wanted is None else wanted & there
    return {"$ne": None} if wanted is None else {"$in": sorted(wanted)}


async def _waiting(uow: UnitOfWork, resident: dict[str, Any]) -> dict[str, Any] | None:
    """How the resident waits (None: they have a seat, or passed an integration course)."""
    queued: dict[str, Any] | None = None
    for enr in await uow.find(store.ENROLMENTS, {"resident_id": resident["_id"]}):
        course = await uow.get(store.COURSES, enr["course_id"]) or {"waitlist": []}
        kind = enr.get("course_kind") or course.get("kind")
        if kind not in LANGUAGE:
            continue
        if enr["status"] == "confirmed" or (
                enr["status"] == "completed" and kind == "integration_course"
                and enr.get("passed")):
            return None
        if enr["status"] == "waitlisted" and queued is None:
            queued = {"state": "waitlisted", "course_id": enr["course_id"],
                      "position": domain.position(course, enr["_id"])}
    return queued or {"state": "none"}


async def list_language_waiting(cmd: ListLanguageWaiting,
                                uow: UnitOfWork) -> LanguageWaitingPage:
    require_role(cmd.actor, STAFF, "list who waits for a language course")
    born_by = utcnow().year - ADULT
    flt = {"site_id": await _sites(uow, cmd), **store.PEOPLE_ONLY}
    found: list[LanguageWaiting] = []
    for r in await uow.find(store.RESIDENTS, flt):
        if r.get("birth_year") is not None and r["birth_year"] > born_by:
            continue
        how = await _waiting(uow, r)
        if how is None or (cmd.state is not None and how["state"] != cmd.state):
            continue
        site = await uow.get(store.SITES, r["site_id"]) or {}
        placed = r.get("placed_on")
        found.append(LanguageWaiting(
            resident_id=r["_id"], site_id=r["site_id"], district=site.get("district"),
            since=date.fromisoformat(placed) if placed else None, **how))
    found.sort(key=lambda w: (w.state != "none", w.since or date.min, w.resident_id))
    return LanguageWaitingPage(items=found[cmd.offset:cmd.offset + cmd.limit],
                               total=len(found), offset=cmd.offset, limit=cmd.limit)
