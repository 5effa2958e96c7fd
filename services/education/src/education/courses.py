"""The course catalogue: create, change (re-balancing the waitlists), cancel, read."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from contracts.education import CourseCancelled, CourseChanged, CourseCreated
from contracts.education_commands import (
    CancelCourse,
    ChangeCourse,
    CoursePage,
    CourseView,
    CreateCourse,
    GetCourse,
    ListCourses,
    Session,
)
from education import domain, store
from education.outcomes import apply
from education.register import to_register
from education.rights import CATALOGUE, check
from im_runtime import Conflict, DomainError, UnitOfWork
from im_runtime.access import require_role

READERS = ("city_admin", "social_worker", "operator", "provider", "auditor", "system")
STATUS_PATH = {"planned": {"running", "finished"}, "running": {"finished"}, "finished": set()}


def view(doc: dict[str, Any]) -> CourseView:
    return CourseView(
        course_id=doc["_id"], kind=doc["kind"], level=doc.get("level"), title=doc["title"],
        provider=doc["provider"], provider_id=doc.get("provider_id"), site_id=doc.get("site_id"),
        address=doc.get("address"), starts=date.fromisoformat(doc["starts"]),
        ends=date.fromisoformat(doc["ends"]),
        sessions=[Session(**s) for s in doc.get("sessions", [])],
        languages=doc.get("languages", []), state=doc["status"], capacity=doc["capacity"],
        confirmed=len(doc["seats"]), waitlisted=len(doc["waitlist"]),
        childcare_places=doc["childcare_places"], childcare_taken=len(doc["care"]),
        childcare_waitlisted=len(doc["care_waitlist"]))


async def create_course(cmd: CreateCourse, uow: UnitOfWork) -> CourseView:
    provider_id = cmd.provider_id or (cmd.actor.provider if cmd.actor.role == "provider"
                                      else None)
    draft = {"_id": cmd.course_id, "provider_id": provider_id}
    check(cmd.actor, CATALOGUE, "create courses", draft)
    if (cmd.site_id is None) == (cmd.address is None):
        raise DomainError("a course is held either at a site (site_id) or at an external "
                          "address, exactly one of them",
                          details={"course_id": cmd.course_id, "field": "site_id"})
    if cmd.ends < cmd.starts:
        raise DomainError("a course cannot end before it starts",
                          details={"course_id": cmd.course_id, "field": "ends"})
    if (cmd.level is not None) != (cmd.kind == "integration_course"):
        raise DomainError("integration courses need a level (A1, A2, B1); other kinds have none",
                          details={"course_id": cmd.course_id, "kind": cmd.kind,
                                   "field": "level"})
    if await uow.get(store.COURSES, cmd.course_id) is not None:
        raise Conflict(f"course {cmd.course_id!r} exists already",
                       details={"course_id": cmd.course_id})
    doc = domain.new_course(
        _id=cmd.course_id, kind=cmd.kind, level=cmd.level, title=cmd.title,
        provider=cmd.provider, provider_id=provider_id, site_id=cmd.site_id,
        address=cmd.address, starts=cmd.starts.isoformat(), ends=cmd.ends.isoformat(),
        sessions=msgspec.to_builtins(cmd.sessions), languages=list(cmd.languages),
        status=cmd.status, capacity=cmd.capacity, childcare_places=cmd.childcare_places)
    uow.put(store.COURSES, doc)
    uow.emit(CourseCreated(course_id=cmd.course_id, kind=cmd.kind, level=cmd.level,
                           title=cmd.title, provider=cmd.provider, site_id=cmd.site_id,
                           capacity=cmd.capacity, childcare_places=cmd.childcare_places,
                           starts=cmd.starts, ends=cmd.ends))
    return view(doc)


async def change_course(cmd: ChangeCourse, uow: UnitOfWork) -> CourseView:
    course = await store.course(uow, cmd.course_id)
    check(cmd.actor, CATALOGUE, "change courses", course)
    if course["status"] in domain.CLOSED:
        raise Conflict(f"course {cmd.course_id} is {course['status']}; it cannot change",
                       details={"course_id": cmd.course_id, "status": course["status"]})
    if cmd.status and cmd.status != course["status"]:
        if cmd.status not in STATUS_PATH[course["status"]]:
            raise Conflict(f"a course cannot go from {course['status']} to {cmd.status}",
                           details={"course_id": cmd.course_id, "status": course["status"]})
        course["status"] = cmd.status
    changes = domain.resize(
        course, course["capacity"] if cmd.capacity is None else cmd.capacity,
        course["childcare_places"] if cmd.childcare_places is None else cmd.childcare_places)
    await apply(uow, course, changes, "")
    uow.put(store.COURSES, course)
    uow.emit(CourseChanged(course_id=course["_id"], capacity=course["capacity"],
                           childcare_places=course["childcare_places"], status=course["status"]))
    return view(course)


async def cancel_course(cmd: CancelCourse, uow: UnitOfWork) -> CourseView:
    course = await store.course(uow, cmd.course_id)
    check(cmd.actor, CATALOGUE, "cancel courses", course)
    changes = domain.cancel(course)
    await apply(uow, course, changes, f"course cancelled: {cmd.reason}")
    uow.put(store.COURSES, course)
    uow.emit(CourseCancelled(course_id=course["_id"], reason=cmd.reason))
    return view(course)


async def get_course(cmd: GetCourse, uow: UnitOfWork) -> CourseView:
    require_role(cmd.actor, READERS, "read courses")
    return view(await store.course(uow, cmd.course_id))


async def list_courses(cmd: ListCourses, uow: UnitOfWork) -> CoursePage:
    require_role(cmd.actor, READERS, "list courses")
    flt: dict[str, Any] = {k: v for k, v in (("site_id", cmd.site_id), ("kind", cmd.kind),
                                             ("status", cmd.status),
                                             ("provider_id", cmd.provider_id)) if v is not None}
    if cmd.district is not None:  # held at a site there (not at an outside address)
        there = {s["_id"] for s in await uow.find(store.SITES, {"district": cmd.district})}
        flt["site_id"] = {"$in": sorted(there & {cmd.site_id} if cmd.site_id else there)}
    docs = await uow.find(store.COURSES, flt, sort=[("_id", 1)], skip=cmd.offset,
                          limit=cmd.limit)
    items = [msgspec.structs.replace(view(d), sessions_to_register=await to_register(uow, d))
             for d in docs]
    return CoursePage(items=items, total=await uow.count(store.COURSES, flt),
                      offset=cmd.offset, limit=cmd.limit)
