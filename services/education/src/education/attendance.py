"""Attendance per session and the result at the end of a course."""

from __future__ import annotations

from contracts import utcnow
from contracts.education import AttendanceRecorded, EnrolmentCompleted
from contracts.education_commands import CompleteEnrolment, EnrolmentView, RecordAttendance
from education import store
from education.enrolment import load, rate, view
from education.outcomes import complete_referral
from education.rights import TEACHING, check
from im_runtime import Conflict, DomainError, UnitOfWork


def _about(enr: dict, course: dict) -> dict:
    return {"resident_id": enr["resident_id"], "enrolment_id": enr["_id"],
            "course_id": course["_id"], "course_kind": course["kind"],
            "site_id": course.get("site_id")}


async def record_attendance(cmd: RecordAttendance, uow: UnitOfWork) -> EnrolmentView:
    enr, course = await load(uow, cmd.enrolment_id)
    check(cmd.actor, TEACHING, "record attendance", course)
    if enr["status"] != "confirmed":
        raise Conflict(f"attendance is recorded for confirmed enrolments; {enr['_id']} is "
                       f"{enr['status']}", details={"enrolment_id": enr["_id"],
                                                    "status": enr["status"]})
    if not course["starts"] <= cmd.session_on.isoformat() <= course["ends"]:
        raise DomainError(f"{cmd.session_on} is outside the course ({course['starts']} to "
                          f"{course['ends']})", details={"course_id": course["_id"],
                                                        "field": "session_on",
                                                        "starts": course["starts"],
                                                        "ends": course["ends"]})
    enr["attendance"][cmd.session_on.isoformat()] = cmd.present
    uow.put(store.ENROLMENTS, enr)
    uow.emit(AttendanceRecorded(**_about(enr, course), session_on=cmd.session_on,
                                present=cmd.present, rate=rate(enr) or 0.0))
    return view(enr, course)


async def complete_enrolment(cmd: CompleteEnrolment, uow: UnitOfWork) -> EnrolmentView:
    enr, course = await load(uow, cmd.enrolment_id)
    check(cmd.actor, TEACHING, "record results", course)
    if enr["status"] != "confirmed":
        raise Conflict(f"only a confirmed enrolment can be completed; {enr['_id']} is "
                       f"{enr['status']}", details={"enrolment_id": enr["_id"],
                                                    "status": enr["status"]})
    if cmd.certificate_level is not None and course["kind"] != "integration_course":
        raise DomainError("a certificate level is given for integration courses only",
                          details={"course_id": course["_id"], "kind": course["kind"]})
    level = cmd.certificate_level if cmd.passed else None
    enr |= {"status": "completed", "passed": cmd.passed, "certificate_level": level,
            "ended_at": utcnow()}  # retention counts from it
    uow.put(store.ENROLMENTS, enr)
    uow.emit(EnrolmentCompleted(**_about(enr, course), passed=cmd.passed,
                                certificate_level=level))
    complete_referral(uow, enr, "passed" if cmd.passed else "not_passed")
    return view(enr, course)
