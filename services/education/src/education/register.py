"""The class register's due days: the days a course meets, from its start to today, and
how many confirmed participants have a mark for each."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from contracts import utcnow
from contracts.education_commands import SessionDay
from education import store
from im_runtime import UnitOfWork

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def session_days(course: dict[str, Any], until: date) -> list[date]:
    """The days the course meets (its weekly sessions) from its start to `until` or its
    end, whichever is first."""
    weekdays = {WEEKDAYS.index(s["weekday"]) for s in course.get("sessions", [])}
    day, last = date.fromisoformat(course["starts"]), min(date.fromisoformat(course["ends"]),
                                                          until)
    days = []
    while day <= last and weekdays:
        if day.weekday() in weekdays:
            days.append(day)
        day += timedelta(days=1)
    return days


async def enrolments(uow: UnitOfWork, course_id: str) -> list[dict[str, Any]]:
    return await uow.find(store.ENROLMENTS, {"course_id": course_id, **store.PEOPLE_ONLY},
                          sort=[("_id", 1)])


def register(course: dict[str, Any], enrolled: list[dict[str, Any]],
             today: date) -> list[SessionDay]:
    seated = [e for e in enrolled if e["status"] == "confirmed"]
    return [SessionDay(on=d, expected=len(seated),
                       recorded=sum(d.isoformat() in e.get("attendance", {}) for e in seated))
            for d in session_days(course, today)]


async def to_register(uow: UnitOfWork, course: dict[str, Any]) -> int:
    """Session days up to today whose register misses a confirmed participant."""
    if course["status"] == "cancelled":
        return 0
    days = register(course, await enrolments(uow, course["_id"]), utcnow().date())
    return sum(d.recorded < d.expected for d in days)
