"""Education's sections of the scatter-gather views."""

from __future__ import annotations

from collections import Counter
from typing import Any

from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from education import domain, store
from education.enrolment import rate
from education.schooling import view as access_view
from im_runtime import UnitOfWork

ACTIVE = {"$in": ["confirmed", "waitlisted"]}


def _enrolment(enr: dict[str, Any], course: dict[str, Any]) -> dict[str, Any]:
    placed = {c["c"] for c in course["care"]}
    waiting = [c["c"] for c in course["care_waitlist"]]
    return {
        "enrolment_id": enr["_id"], "course_id": course["_id"], "title": course["title"],
        "kind": course["kind"], "level": course.get("level"), "status": enr["status"],
        "course_status": course["status"],
        "waitlist_position": domain.position(course, enr["_id"]),
        "attendance_rate": rate(enr), "sessions_recorded": len(enr.get("attendance", {})),
        "result": {"passed": enr["passed"], "certificate_level": enr["certificate_level"]}
        if enr["status"] == "completed" else None,
        "childcare": [{"child_id": c, "status": "placed" if c in placed else
                       "waitlisted" if c in waiting else "pending",
                       "position": waiting.index(c) + 1 if c in waiting else None}
                      for c in enr.get("children", [])] if enr["status"] == "confirmed" else [],
    }


async def resident_overview(q: GetResidentOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    enrolments = await uow.find(store.ENROLMENTS, {"resident_id": q.resident_id},
                                sort=[("_id", 1)])
    own = await uow.find(store.ACCESS, {"resident_id": q.resident_id}, sort=[("_id", 1)])
    children = await uow.find(store.ACCESS, {"parent_id": q.resident_id}, sort=[("_id", 1)])
    resident = await uow.get(store.RESIDENTS, q.resident_id)
    if not (enrolments or own or children or resident):
        return None
    rows = []
    for enr in enrolments:
        course = await uow.get(store.COURSES, enr["course_id"])
        if course is not None:
            rows.append(_enrolment(enr, course))
    return {
        "resident_id": q.resident_id,
        "site_id": resident.get("site_id") if resident else None,
        "enrolments": rows,
        "access_requests": [_access(d) for d in own],
        "children_access": [_access(d) for d in children],
    }


def _access(doc: dict[str, Any]) -> dict[str, Any]:
    v = access_view(doc)
    return {"request_id": v.request_id, "resident_id": v.resident_id, "kind": v.kind,
            "district": v.district, "status": v.state, "institution": v.institution,
            "starts": v.starts.isoformat() if v.starts else None}


async def site_overview(q: GetSiteOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    courses = await uow.find(store.COURSES, {"site_id": q.site_id}, sort=[("_id", 1)])
    open_requests = await uow.tally(store.ACCESS, "kind", {"site_id": q.site_id, "open": True})
    enrolled_here = await uow.count(store.ENROLMENTS, {"site_id": q.site_id, "status": ACTIVE})
    if not (courses or open_requests or enrolled_here):
        return None
    return {
        "site_id": q.site_id,
        "courses": [{"course_id": c["_id"], "title": c["title"], "kind": c["kind"],
                     "status": c["status"], "capacity": c["capacity"],
                     "confirmed": len(c["seats"]),
                     "free_seats": max(c["capacity"] - len(c["seats"]), 0)
                     if c["status"] not in domain.CLOSED else 0,
                     "waitlist": len(c["waitlist"]),
                     "childcare_free": max(c["childcare_places"] - len(c["care"]), 0),
                     "childcare_waitlist": len(c["care_waitlist"])} for c in courses],
        "residents_enrolled": enrolled_here,
        "open_access_requests": {"kita": open_requests.get("kita", 0),
                                 "school": open_requests.get("school", 0)},
    }


async def city_stats(q: GetCityStats, uow: UnitOfWork) -> dict[str, Any]:
    # Figures from tallies the read model keeps current: nothing is counted per request.
    courses = await uow.tally(store.COURSES, ("kind", "status"))
    by_status = await uow.tally(store.ENROLMENTS, "status")
    counts = {s: by_status.get(s, 0) for s in ("confirmed", "waitlisted", "completed",
                                                "withdrawn")}
    passed = await uow.count(store.ENROLMENTS, {"status": "completed", "passed": True})
    ended = counts["completed"] + counts["withdrawn"]
    open_requests = await uow.tally(store.ACCESS, "kind", {"open": True})
    by_kind: Counter[str] = Counter()
    course_states: Counter[str] = Counter()
    for (kind, status), n in courses.items():
        by_kind[kind] += n
        course_states[status] += n
    return {
        "courses": sum(courses.values()),
        "courses_by_kind": dict(by_kind),
        "courses_by_status": dict(course_states),
        "enrolled": counts["confirmed"], "waitlisted": counts["waitlisted"],
        "completed": counts["completed"], "withdrawn": counts["withdrawn"], "passed": passed,
        # share of ended enrolments that ended in completion (rather than withdrawal)
        "completion_rate": round(counts["completed"] / ended, 3) if ended else None,
        "pass_rate": round(passed / counts["completed"], 3) if counts["completed"] else None,
        "open_access_requests": {"kita": open_requests.get("kita", 0),
                                 "school": open_requests.get("school", 0)},
    }
