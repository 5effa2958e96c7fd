"""Enrolment: a seat while one is free, else the waitlist; withdrawal promotes the next."""

from __future__ import annotations

import uuid
from typing import Any

from contracts.education_commands import (
    ChildcareView,
    Enrol,
    EnrolmentView,
    GetEnrolment,
    RegisterChildren,
    Withdraw,
)
from education import domain, store
from education.outcomes import apply
from education.rights import ENROLMENT, check
from im_runtime import Conflict, UnitOfWork
from im_runtime.access import require_role

READERS = (*ENROLMENT, "auditor")


def rate(enr: dict[str, Any]) -> float | None:
    marks = enr.get("attendance", {})
    return round(sum(marks.values()) / len(marks), 3) if marks else None


def view(enr: dict[str, Any], course: dict[str, Any]) -> EnrolmentView:
    placed = {c["c"] for c in course["care"] if c["e"] == enr["_id"]}
    waiting = [c["c"] for c in course["care_waitlist"]]
    children = [ChildcareView(child_id=c, state="placed") if c in placed else
                ChildcareView(child_id=c, state="waitlisted", position=waiting.index(c) + 1)
                if c in waiting else ChildcareView(child_id=c, state="pending")
                for c in enr.get("children", [])] if enr["status"] == "confirmed" else []
    return EnrolmentView(
        enrolment_id=enr["_id"], course_id=enr["course_id"], resident_id=enr["resident_id"],
        state=enr["status"], position=domain.position(course, enr["_id"]),
        attendance_rate=rate(enr), passed=enr.get("passed"),
        certificate_level=enr.get("certificate_level"), children=children)


async def enrol_resident(uow: UnitOfWork, course: dict[str, Any], resident_id: str,
                         children: list[str], referral: dict[str, str] | None = None
                         ) -> dict[str, Any]:
    """Create the enrolment and take a seat or a waitlist place for it."""
    eid = f"e-{uuid.uuid4().hex[:12]}"
    changes = domain.enrol(course, eid, resident_id, children)
    enr = {"_id": eid, "course_id": course["_id"], "course_kind": course["kind"],
           "resident_id": resident_id,
           "status": "new", "children": list(dict.fromkeys(children)), "attendance": {},
           "passed": None, "certificate_level": None, "referral": referral,
           "site_id": await store.resident_site(uow, resident_id)}
    uow.put(store.ENROLMENTS, enr)
    await apply(uow, course, changes, "")
    uow.put(store.COURSES, course)
    return await store.enrolment(uow, eid)


async def enrol(cmd: Enrol, uow: UnitOfWork) -> EnrolmentView:
    course = await store.course(uow, cmd.course_id)
    check(cmd.actor, ENROLMENT, "enrol residents", course,
          await store.resident_site(uow, cmd.resident_id))
    enr = await enrol_resident(uow, course, cmd.resident_id, list(cmd.children))
    return view(enr, course)


async def load(uow: UnitOfWork, enrolment_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    enr = await store.enrolment(uow, enrolment_id)
    return enr, await store.course(uow, enr["course_id"])


def require_active(enr: dict[str, Any]) -> None:
    if enr["status"] not in ("confirmed", "waitlisted"):
        raise Conflict(f"enrolment {enr['_id']} is {enr['status']}",
                       details={"enrolment_id": enr["_id"], "status": enr["status"]})


async def register_children(cmd: RegisterChildren, uow: UnitOfWork) -> EnrolmentView:
    enr, course = await load(uow, cmd.enrolment_id)
    check(cmd.actor, ENROLMENT, "register children for childcare", course, enr.get("site_id"))
    require_active(enr)
    changes = domain.add_children(course, enr["_id"], list(cmd.children))
    enr["children"] = list(dict.fromkeys([*enr["children"], *cmd.children]))
    uow.put(store.ENROLMENTS, enr)
    await apply(uow, course, changes, "")
    uow.put(store.COURSES, course)
    return view(await store.enrolment(uow, enr["_id"]), course)


async def withdraw(cmd: Withdraw, uow: UnitOfWork) -> EnrolmentView:
    enr, course = await load(uow, cmd.enrolment_id)
    check(cmd.actor, ENROLMENT, "withdraw enrolments", course, enr.get("site_id"))
    require_active(enr)
    await apply(uow, course, domain.withdraw(course, enr["_id"]), cmd.reason)
    uow.put(store.COURSES, course)
    return view(await store.enrolment(uow, enr["_id"]), course)


async def get_enrolment(cmd: GetEnrolment, uow: UnitOfWork) -> EnrolmentView:
    enr, course = await load(uow, cmd.enrolment_id)
    require_role(cmd.actor, READERS, "read enrolments")
    check(cmd.actor, READERS, "read this enrolment",
          course if cmd.actor.role == "provider" else None, enr.get("site_id"))
    return view(enr, course)
