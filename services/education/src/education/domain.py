"""Seat rules, free of I/O. A course's whole seat bookkeeping (seats, waitlist, childcare
places and their waitlist) lives on its one document, so the unit of work's version
check on that document is what keeps a course from ever being over-filled."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from im_runtime.errors import Conflict

Course = dict[str, Any]
CLOSED = frozenset({"finished", "cancelled"})


@dataclass(frozen=True)
class Change:
    """What happened to an enrolment (or one of its children) under a rule."""

    kind: str  # confirmed waitlisted promoted released care_placed care_waitlisted care_released
    enrolment_id: str
    child_id: str | None = None
    position: int | None = None
    was: str | None = None


def new_course(**fields: Any) -> Course:
    return {**fields, "seats": [], "waitlist": [], "care": [], "care_waitlist": []}


def holder(course: Course, resident_id: str) -> str | None:
    """The resident's active enrolment in the course (seat or waitlist), if any."""
    for entry in course["seats"] + course["waitlist"]:
        if entry["r"] == resident_id:
            return str(entry["e"])
    return None


def position(course: Course, enrolment_id: str) -> int | None:
    for i, entry in enumerate(course["waitlist"], start=1):
        if entry["e"] == enrolment_id:
            return i
    return None


def _open(course: Course) -> None:
    if course["status"] in CLOSED:
        raise Conflict(f"course {course['_id']} is {course['status']}; nobody can enrol",
                       details={"course_id": course["_id"], "status": course["status"]})


def enrol(course: Course, enrolment_id: str, resident_id: str,
          children: list[str]) -> list[Change]:
    _open(course)
    if (held := holder(course, resident_id)) is not None:
        raise Conflict(f"resident {resident_id} is already enrolled in course {course['_id']}",
                       details={"resident_id": resident_id, "course_id": course["_id"],
                                "enrolment_id": held})
    entry = {"e": enrolment_id, "r": resident_id, "k": list(dict.fromkeys(children))}
    if len(course["seats"]) < course["capacity"]:
        course["seats"].append(entry)
        return [Change("confirmed", enrolment_id), *_allot(course, entry)]
    course["waitlist"].append(entry)
    return [Change("waitlisted", enrolment_id, position=len(course["waitlist"]))]


def add_children(course: Course, enrolment_id: str, children: list[str]) -> list[Change]:
    _open(course)
    entry = next((x for x in course["seats"] + course["waitlist"] if x["e"] == enrolment_id),
                 None)
    if entry is None:
        raise Conflict(f"enrolment {enrolment_id} is no longer active",
                       details={"enrolment_id": enrolment_id})
    fresh = [c for c in dict.fromkeys(children) if c not in entry["k"]]
    entry["k"].extend(fresh)
    if entry in course["seats"]:  # a waitlisted parent's children wait for the seat
        return _allot(course, {**entry, "k": fresh})
    return []


def _allot(course: Course, entry: dict[str, Any]) -> list[Change]:
    out: list[Change] = []
    for child in entry["k"]:
        care = {"c": child, "e": entry["e"]}
        if len(course["care"]) < course["childcare_places"]:
            course["care"].append(care)
            out.append(Change("care_placed", entry["e"], child))
        else:
            course["care_waitlist"].append(care)
            out.append(Change("care_waitlisted", entry["e"], child,
                              position=len(course["care_waitlist"])))
    return out


def fill(course: Course) -> list[Change]:
    """Promote waitlisted enrolments (oldest first) into free seats, then children into
    free childcare places."""
    out: list[Change] = []
    while len(course["seats"]) < course["capacity"] and course["waitlist"]:
        entry = course["waitlist"].pop(0)
        course["seats"].append(entry)
        out.append(Change("promoted", entry["e"]))
        out.extend(_allot(course, entry))
    while len(course["care"]) < course["childcare_places"] and course["care_waitlist"]:
        care = course["care_waitlist"].pop(0)
        course["care"].append(care)
        out.append(Change("care_placed", care["e"], care["c"]))
    return out


def _release_care(course: Course, enrolment_id: str) -> list[Change]:
    out: list[Change] = []
    for key, was in (("care", "placed"), ("care_waitlist", "waitlisted")):
        mine = [c for c in course[key] if c["e"] == enrolment_id]
        course[key] = [c for c in course[key] if c["e"] != enrolment_id]
        out.extend(Change("care_released", enrolment_id, c["c"], was=was) for c in mine)
    return out


def withdraw(course: Course, enrolment_id: str) -> list[Change]:
    """Free the enrolment's seat (or waitlist place) and promote whoever is next."""
    for key, was in (("seats", "confirmed"), ("waitlist", "waitlisted")):
        if any(x["e"] == enrolment_id for x in course[key]):
            course[key] = [x for x in course[key] if x["e"] != enrolment_id]
            out = [Change("released", enrolment_id, was=was), *_release_care(course, enrolment_id)]
            return out + (fill(course) if course["status"] not in CLOSED else [])
    raise Conflict(f"enrolment {enrolment_id} is no longer active",
                   details={"enrolment_id": enrolment_id})


def resize(course: Course, capacity: int, childcare_places: int) -> list[Change]:
    """New seat and childcare numbers; more seats promote from the waitlists. Fewer seats
    than are confirmed would take a promised seat away: refused."""
    for key, new, what in (("seats", capacity, "capacity"),
                           ("care", childcare_places, "childcare_places")):
        if new < len(course[key]):
            raise Conflict(f"course {course['_id']} has {len(course[key])} taken; {what} "
                           f"cannot go below that", details={
                               "course_id": course["_id"], "taken": str(len(course[key])),
                               what: str(new)})
    course["capacity"], course["childcare_places"] = capacity, childcare_places
    return fill(course) if course["status"] not in CLOSED else []


def cancel(course: Course) -> list[Change]:
    """Release everyone: seats first, then the waitlist in order."""
    if course["status"] in CLOSED:
        raise Conflict(f"course {course['_id']} is {course['status']} already",
                       details={"course_id": course["_id"], "status": course["status"]})
    course["status"] = "cancelled"
    out = [Change("released", x["e"], was="confirmed") for x in course["seats"]]
    out += [Change("released", x["e"], was="waitlisted") for x in course["waitlist"]]
    out += [Change("care_released", c["e"], c["c"], was="placed") for c in course["care"]]
    out += [Change("care_released", c["e"], c["c"], was="waitlisted")
            for c in course["care_waitlist"]]
    course["seats"], course["waitlist"], course["care"], course["care_waitlist"] = [], [], [], []
    return out
