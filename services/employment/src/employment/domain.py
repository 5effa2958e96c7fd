"""Employment rules, free of I/O: eligibility, phase seats, the participation state
machine, and the merge of language-course enrolments that makes the projection
independent of the order and number of deliveries."""

from __future__ import annotations

from typing import Any

from im_runtime.errors import Conflict

# Participations holding a seat in their phase: a completed one used its seat; dropping
# out or moving on to the next phase frees it; the waitlist holds none.
SEATED = frozenset({"registered", "waiting_for_language_course", "active"})
HOLDS_SEAT = SEATED | {"completed"}
OPEN = SEATED | {"waitlisted"}
TRANSITIONS: dict[str, frozenset[str]] = {
    "waitlisted": frozenset({"registered", "waiting_for_language_course", "dropped_out"}),
    "registered": frozenset({"active", "waiting_for_language_course", "dropped_out"}),
    "waiting_for_language_course": frozenset({"active", "dropped_out"}),
    "active": frozenset({"completed", "dropped_out"}),
    "completed": frozenset(),
    "dropped_out": frozenset(),
}
# An enrolment's later states win over earlier ones whatever order their events came in.
RANK = {"waitlisted": 0, "confirmed": 1, "withdrawn": 2, "completed": 2}
HOLDS_COURSE = frozenset({"confirmed", "completed"})


class IllegalTransition(Conflict):
    pass


def transition(current: str, wanted: str, participation_id: str) -> str:
    if wanted not in TRANSITIONS[current]:
        raise IllegalTransition(
            f"participation {participation_id} is {current}; it cannot become {wanted}",
            details={"participation_id": participation_id, "state": current,
                     "wanted": wanted})
    return wanted


def eligibility(programme: dict[str, Any], phase: dict[str, Any],
                resident: dict[str, Any]) -> None:
    """Refuse a resident the programme's rules exclude (status, age at the phase start)."""
    status = resident.get("residence_status")
    if status not in programme["allowed_statuses"]:
        raise Conflict(f"residence status {status} is not admitted to {programme['_id']}",
                       details={"rule": "residence_status", "residence_status": str(status),
                                "allowed": ",".join(programme["allowed_statuses"])})
    age = int(phase["starts"][:4]) - int(resident["birth_year"])
    if age < programme["min_age"]:
        raise Conflict(f"the resident is {age} when the phase starts; {programme['_id']} "
                       f"admits from {programme['min_age']}",
                       details={"rule": "min_age", "age": str(age),
                                "min_age": str(programme["min_age"])})


def has_free_seat(phase: dict[str, Any]) -> bool:
    return int(phase["taken"]) < int(phase["capacity"])


def seated_status(programme: dict[str, Any], resident: dict[str, Any]) -> str:
    """Where a participant with a seat starts: waiting when a required course is missing."""
    if programme["language_course_required"] and not holds_course(resident):
        return "waiting_for_language_course"
    return "registered"


def holds_course(resident: dict[str, Any]) -> bool:
    return any(e["state"] in HOLDS_COURSE for e in resident.get("enrolments", {}).values())


def merge_enrolment(current: dict[str, Any] | None, state: str, at: float,
                    was_confirmed: bool) -> dict[str, Any]:
    """One enrolment's state after an event: highest rank wins, then the latest time.
    `confirmed_at`/`ended_at` remember when it held a seat, whatever came first."""
    doc = dict(current or {"state": state, "at": at, "ever_confirmed": False,
                           "ended_at": None})
    if (RANK[state], at) > (RANK[doc["state"]], doc["at"]):
        doc["state"], doc["at"] = state, at
    doc["ever_confirmed"] = doc["ever_confirmed"] or was_confirmed
    if state in ("withdrawn", "completed"):
        doc["ended_at"] = at if doc["ended_at"] is None else min(doc["ended_at"], at)
    return doc


def course_since(resident: dict[str, Any], registered_at: float) -> bool:
    """A language course held a seat for the resident at some time after `registered_at`
    (an enrolment confirmed then, or one ended only after it)."""
    for e in resident.get("enrolments", {}).values():
        if e["ever_confirmed"] and (e["ended_at"] is None or e["ended_at"] > registered_at):
            return True
    return False
