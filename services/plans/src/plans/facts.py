"""Facts other services report, as plans reads them: which events are facts, what they
are about (a resident, or a household for move-out cases) and what they say (a level, a
phase, a kind of placement, a referral's topic)."""

from __future__ import annotations

from datetime import UTC
from typing import Any, NamedTuple

from contracts import CloudEvent
from contracts import education as ed
from contracts import employment as em
from contracts import housing as hs
from contracts import referrals as rf
from volunteers import contracts as vol


class Fact(NamedTuple):
    kind: str
    subject: str
    attrs: dict[str, Any]


def _education(data: Any) -> Fact | None:
    if isinstance(data, ed.EnrolmentCompleted):
        if data.passed and data.course_kind in ed.LANGUAGE_KINDS:
            return Fact("language_course_completed", data.resident_id,
                        {"level": data.certificate_level})
        return None
    if isinstance(data, ed.EnrolmentConfirmed | ed.EnrolmentPromoted):
        if data.course_kind in ed.LANGUAGE_KINDS:
            return Fact("language_course_enrolled", data.resident_id, {})
        return None
    if isinstance(data, ed.AccessRequestPlaced):
        return Fact(f"{data.kind}_place_taken", data.resident_id, {})
    return None


def _housing(data: Any) -> Fact | None:
    if isinstance(data, hs.MoveOutCaseOpened):
        return Fact("move_out_case_opened", data.household_id, {})
    if isinstance(data, hs.MoveOutCaseAdvanced) and data.stage == "moved_out":
        return Fact("moved_out", data.household_id, {})
    if isinstance(data, hs.MoveOutCaseClosed) and data.outcome == "moved_out":
        return Fact("moved_out", data.household_id, {})
    return None


def _employment(data: Any) -> Fact | None:
    if isinstance(data, em.ParticipantActivated):
        return Fact("programme_joined", data.resident_id, {"phase": data.phase})
    if isinstance(data, em.ParticipantMovedToNextPhase):
        return Fact("programme_phase_completed", data.resident_id, {"phase": data.from_phase})
    if isinstance(data, em.ParticipantCompleted):
        return Fact("programme_phase_completed", data.resident_id, {"phase": data.phase})
    if isinstance(data, em.PlacementRecorded):
        return Fact("placement", data.resident_id, {"kind": data.kind})
    return None


def _others(data: Any) -> Fact | None:
    if isinstance(data, vol.MatchStarted):
        return Fact("tandem_started", data.resident_id, {})
    if isinstance(data, rf.ReferralAccepted):
        return Fact("referral_accepted", data.resident_id, {"topic": data.topic})
    return None


def fact_of(event: CloudEvent[Any]) -> Fact | None:
    """The fact an event reports, or None (a failed course, a case still searching)."""
    for read in (_education, _housing, _employment, _others):
        if (fact := read(event.data)) is not None:
            return fact
    return None


def occurrence(event: CloudEvent[Any], fact: Fact) -> dict[str, Any]:
    """What plans keeps of the event: its type, id and time (UTC, so times compare as
    text), and what the fact says."""
    return {"event_id": event.id, "type": event.type,
            "time": event.time.astimezone(UTC).isoformat(), "attrs": fact.attrs}


# Every event type plans reads, for the spec.
TYPES = (ed.EnrolmentConfirmed, ed.EnrolmentConfirmedV2, ed.EnrolmentPromoted,
         ed.EnrolmentCompleted, ed.AccessRequestPlaced,
         hs.MoveOutCaseOpened, hs.MoveOutCaseAdvanced, hs.MoveOutCaseClosed,
         em.ParticipantActivated, em.ParticipantMovedToNextPhase, em.ParticipantCompleted,
         em.PlacementRecorded, vol.MatchStarted, rf.ReferralAccepted)
