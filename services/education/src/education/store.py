"""Typed access to education's documents through the unit of work."""

from __future__ import annotations

from typing import Any

from im_runtime import NotFound, UnitOfWork
from im_runtime.anonymous import NOT_STAND_IN

COURSES, ENROLMENTS, ACCESS, RESIDENTS, SITES, REFERRALS = (
    "courses", "enrolments", "access_requests", "residents", "sites", "referrals")


need = UnitOfWork.need  # NotFound naming the missing thing
# Erased residents' enrolments and requests live on as anonymous stand-ins that keep the
# figures (seats, waitlists, completions); nobody may read or act on them.
PEOPLE_ONLY = NOT_STAND_IN  # a filter: real records, no stand-ins


async def course(uow: UnitOfWork, course_id: str) -> dict[str, Any]:
    return await need(uow, COURSES, course_id, "course")


async def enrolment(uow: UnitOfWork, enrolment_id: str, *,
                    stand_ins: bool = False) -> dict[str, Any]:
    """An enrolment; a stand-in only for the seat rules (`stand_ins`)."""
    doc = await need(uow, ENROLMENTS, enrolment_id, "enrolment")
    if doc.get("anonymised") and not stand_ins:
        raise NotFound(f"no enrolment {enrolment_id!r}", details={"enrolment_id": enrolment_id})
    return doc


async def access_request(uow: UnitOfWork, request_id: str) -> dict[str, Any]:
    doc = await need(uow, ACCESS, request_id, "request")
    if doc.get("anonymised"):
        raise NotFound(f"no request {request_id!r}", details={"request_id": request_id})
    return doc


async def resident_site(uow: UnitOfWork, resident_id: str) -> str | None:
    """The resident's current site as housing last reported it (None when unknown)."""
    doc = await uow.get(RESIDENTS, resident_id)
    return doc.get("site_id") if doc else None
