"""A course's roster and class register: who is enrolled, waiting or done, with their
marks, and which session days still lack one. Read from memory; nothing is stored."""

from __future__ import annotations

from typing import Any

from contracts import utcnow
from contracts.education_commands import CourseRoster, GetCourseRoster, RosterEntry
from education import domain, store
from education.courses import view
from education.enrolment import rate
from education.register import enrolments, register
from education.rights import TEACHING, check
from im_runtime import UnitOfWork

# The roster names residents: the course's provider and the city read it (not social
# workers, whose residents are only those of their sites).
READERS = (*TEACHING, "auditor")


def entry(enr: dict[str, Any], course: dict[str, Any]) -> RosterEntry:
    return RosterEntry(enrolment_id=enr["_id"], resident_id=enr["resident_id"],
                       state=enr["status"], position=domain.position(course, enr["_id"]),
                       attendance=dict(enr.get("attendance", {})), attendance_rate=rate(enr),
                       passed=enr.get("passed"), certificate_level=enr.get("certificate_level"))


async def get_course_roster(cmd: GetCourseRoster, uow: UnitOfWork) -> CourseRoster:
    course = await store.course(uow, cmd.course_id)
    check(cmd.actor, READERS, "read course rosters", course)
    enrolled = await enrolments(uow, cmd.course_id)
    # Seats and the waitlist in their order (of arrival), then those who left or finished.
    order = {x["e"]: i for i, x in enumerate(course["seats"] + course["waitlist"])}
    listed = sorted(enrolled, key=lambda e: (order.get(e["_id"], len(order)), e["_id"]))
    return CourseRoster(course=view(course), entries=[entry(e, course) for e in listed],
                        sessions_due=register(course, enrolled, utcnow().date()))
