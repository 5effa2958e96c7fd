"""Turns what the seat rules decided into enrolment documents and events: one event per
state change, in the order the rules made them."""

from __future__ import annotations

from typing import Any

from contracts import utcnow
from contracts.education import (
    SERVICE,
    ChildcarePlaceAllottedV2,
    ChildcareReleasedV2,
    ChildcareWaitlistedV2,
    EnrolmentConfirmed,
    EnrolmentConfirmedV2,
    EnrolmentPromoted,
    EnrolmentWaitlisted,
    EnrolmentWithdrawn,
)
from contracts.referrals import ReferralCompleted
from education import store, versions
from education.domain import Change
from im_runtime import UnitOfWork
from im_runtime.anonymous import is_stand_in_id

STATUS = {"confirmed": "confirmed", "promoted": "confirmed", "waitlisted": "waitlisted",
          "released": "withdrawn"}


def complete_referral(uow: UnitOfWork, enr: dict[str, Any], outcome: str) -> None:
    ref = enr.get("referral")
    if ref:
        uow.emit(ReferralCompleted(
            referral_id=ref["referral_id"], resident_id=enr["resident_id"],
            operator_id=ref["operator_id"], topic="language_course", service=SERVICE,
            became="enrolment", reference=enr["_id"], outcome=outcome))


def hours_per_week(course: dict[str, Any]) -> float | None:
    """The course's weekly hours from its sessions (None when it has none)."""
    minutes = sum(s.get("minutes", 90) for s in course.get("sessions", []))
    return round(minutes / 60, 2) if minutes else None


def confirmed(about: dict[str, Any], course: dict[str, Any],
              version: int | None = None) -> EnrolmentConfirmed:
    """EnrolmentConfirmed in the version this instance emits (see education.versions)."""
    if (version or versions.EVENT_VERSION) == 2:
        return EnrolmentConfirmedV2(**about, hours_per_week=hours_per_week(course))
    return EnrolmentConfirmed(**about)


def _quietly(uow: UnitOfWork, enr: dict[str, Any], ch: Change) -> None:
    """A stand-in's seat or an erased child's place changed: the counts follow, and
    there is nobody to tell."""
    if ch.child_id is None:
        enr["status"] = STATUS[ch.kind]
        uow.put(store.ENROLMENTS, enr)


async def apply(uow: UnitOfWork, course: dict[str, Any], changes: list[Change],
                reason: str) -> None:
    for ch in changes:
        enr = await store.enrolment(uow, ch.enrolment_id, stand_ins=True)
        if enr.get("anonymised") or is_stand_in_id(ch.child_id):
            _quietly(uow, enr, ch)
            continue
        about: dict[str, Any] = {"enrolment_id": enr["_id"], "course_id": course["_id"]}
        if ch.child_id is not None:
            # keyed by the child and naming no one else (the parent is the enrolment's)
            about |= {"resident_id": ch.child_id}
            if ch.kind == "care_placed":
                uow.emit(ChildcarePlaceAllottedV2(**about))
            elif ch.kind == "care_waitlisted":
                uow.emit(ChildcareWaitlistedV2(**about, position=ch.position or 0))
            else:
                uow.emit(ChildcareReleasedV2(**about, was=ch.was or "placed"))  # type: ignore[arg-type]
            continue
        about |= {"resident_id": enr["resident_id"], "course_kind": course["kind"],
                  "site_id": course.get("site_id")}
        enr["status"] = STATUS[ch.kind]
        if ch.kind == "confirmed":
            uow.emit(confirmed(about, course))
        elif ch.kind == "waitlisted":
            uow.emit(EnrolmentWaitlisted(**about, position=ch.position or 0))
        elif ch.kind == "promoted":
            uow.emit(EnrolmentPromoted(**about))
        else:
            enr["ended_at"] = utcnow()  # retention counts from it
            uow.emit(EnrolmentWithdrawn(**about, reason=reason, was=ch.was or "confirmed"))  # type: ignore[arg-type]
            complete_referral(uow, enr, "withdrawn")
        uow.put(store.ENROLMENTS, enr)
