"""Employment's own picture of each resident, from housing's and education's events:
residence status, birth year, site, and every language-course enrolment. Each field
keeps the CloudEvent time it was set at and later facts win, so events that arrive out
of order or twice leave the same state; the participations follow from that state."""

from __future__ import annotations

from typing import Any

from contracts import CloudEvent
from contracts.education import LANGUAGE_KINDS, EnrolmentCompleted, EnrolmentWithdrawn
from contracts.employment import (
    Flag,
    ParticipantActivated,
    ParticipationFlagCleared,
    ParticipationFlagged,
)
from contracts.housing import (
    ResidenceStatusChanged,
    ResidentCorrected,
    ResidentMovedOut,
    ResidentPlaced,
    ResidentRegistered,
    ResidentTransferred,
)
from employment import store
from employment.domain import OPEN, course_since, holds_course, merge_enrolment
from employment.lifecycle import drop_out, ids, set_status
from im_runtime import UnitOfWork

FLAG: Flag = "language_course_withdrawn"
# Order of the housing facts about where a resident lives when two share a timestamp.
SITE_RANK: dict[type, int] = {ResidentPlaced: 0, ResidentTransferred: 1, ResidentMovedOut: 2}
MOVED_AWAY = ("other_municipality", "departed")


async def resident_doc(uow: UnitOfWork, resident_id: str) -> dict[str, Any]:
    return await uow.get(store.RESIDENTS, resident_id) or {
        "_id": resident_id, "birth_year": None, "residence_status": None, "status_at": None,
        "site_id": None, "site_at": None, "enrolments": {}}


def _later(at: list[float] | None, now: list[float]) -> bool:
    return at is None or list(now) >= list(at)


async def on_housing(event: CloudEvent[Any], uow: UnitOfWork) -> None:
    data = event.data
    doc = await resident_doc(uow, data.resident_id)
    at = event.time.timestamp()
    if isinstance(data, ResidentRegistered | ResidentCorrected) \
            and _later(doc.get("record_at"), [at]):  # a correction (Art. 16) wins if later
        doc["birth_year"], doc["household_id"] = data.birth_year, data.household_id
        doc["record_at"] = [at]
    if isinstance(data, ResidentRegistered | ResidenceStatusChanged) \
            and _later(doc["status_at"], [at]):
        doc["residence_status"], doc["status_at"] = data.residence_status, [at]
    rank = SITE_RANK.get(type(data))
    if rank is not None and _later(doc["site_at"], [at, rank]):
        moved_out = isinstance(data, ResidentMovedOut)
        doc["site_id"], doc["site_at"] = (None if moved_out else data.site_id), [at, rank]
        # Retention of the projection runs from leaving the city (a flat keeps them here).
        doc["left_city_at"] = event.time if moved_out and data.reason in MOVED_AWAY else None
    uow.put(store.RESIDENTS, doc)
    if isinstance(data, ResidentMovedOut) and data.reason in MOVED_AWAY:
        await _drop_everything(uow, data.resident_id)


async def _drop_everything(uow: UnitOfWork, resident_id: str) -> None:
    """Leaving the city ends the resident's participations (moving to a flat does not)."""
    for doc in await uow.find(store.PARTICIPATIONS, {"resident_id": resident_id}):
        if doc["status"] in OPEN:
            programme = await store.programme(uow, doc["programme_id"])
            await drop_out(uow, programme, doc, "moved_away", "housing")


async def on_enrolment(event: CloudEvent[Any], uow: UnitOfWork) -> None:
    data = event.data
    if data.course_kind not in LANGUAGE_KINDS:
        return
    doc = await resident_doc(uow, data.resident_id)
    if isinstance(data, EnrolmentWithdrawn):
        state, confirmed = "withdrawn", data.was == "confirmed"
    elif isinstance(data, EnrolmentCompleted):
        state, confirmed = "completed", True
    else:  # confirmed, or promoted from the course's waitlist
        state, confirmed = "confirmed", True
    enrolments = doc.setdefault("enrolments", {})
    enrolments[data.enrolment_id] = merge_enrolment(
        enrolments.get(data.enrolment_id), state, event.time.timestamp(), confirmed)
    uow.put(store.RESIDENTS, doc)
    await follow_course(uow, doc)


async def follow_course(uow: UnitOfWork, resident: dict[str, Any]) -> None:
    """Activate participants waiting for a course; flag (or unflag) open participations
    in programmes that require one, from the resident's course state alone."""
    holds = holds_course(resident)
    for doc in await uow.find(store.PARTICIPATIONS,
                                    {"resident_id": resident["_id"]}):
        programme = await uow.get(store.PROGRAMMES, doc["programme_id"])
        if programme is None or not programme["language_course_required"]:
            continue
        changed = False
        if doc["status"] == "waiting_for_language_course" \
                and course_since(resident, doc["registered_at"]):
            set_status(doc, "active", "education")
            uow.emit(ParticipantActivated(**ids(doc), automatic=True))
            changed = True
        if doc["status"] in ("registered", "active"):
            flagged = FLAG in doc["flags"]
            if flagged == holds:
                doc["flags"] = [f for f in doc["flags"] if f != FLAG] + ([] if holds else [FLAG])
                event = ParticipationFlagCleared if holds else ParticipationFlagged
                uow.emit(event(**ids(doc), flag=FLAG))
                changed = True
        if changed:
            uow.put(store.PARTICIPATIONS, doc)
