"""Typed access to education's documents through the unit of work."""

from __future__ import annotations

from typing import Any

from im_runtime import UnitOfWork

COURSES, ENROLMENTS, ACCESS, RESIDENTS, SITES, REFERRALS = (
    "courses", "enrolments", "access_requests", "residents", "sites", "referrals")


need = UnitOfWork.need  # NotFound naming the missing thing


async def course(uow: UnitOfWork, course_id: str) -> dict[str, Any]:
    return await need(uow, COURSES, course_id, "course")


async def enrolment(uow: UnitOfWork, enrolment_id: str) -> dict[str, Any]:
    return await need(uow, ENROLMENTS, enrolment_id, "enrolment")


async def access_request(uow: UnitOfWork, request_id: str) -> dict[str, Any]:
    return await need(uow, ACCESS, request_id, "request")


async def resident_site(uow: UnitOfWork, resident_id: str) -> str | None:
    """The resident's current site as housing last reported it (None when unknown)."""
    doc = await uow.get(RESIDENTS, resident_id)
    return doc.get("site_id") if doc else None
