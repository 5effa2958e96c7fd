"""Which events are facts for plans, what each is about and what it says."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from contracts import education as ed
from contracts import employment as em
from contracts import housing as hs
from contracts import referrals as rf
from contracts import wrap
from plans.facts import TYPES, Fact, fact_of
from plans.plugin import spec
from volunteers import contracts as vol

pytestmark = pytest.mark.unit
ENR = {"resident_id": "r1", "enrolment_id": "e1", "course_id": "k1"}
PART = {"resident_id": "r1", "participation_id": "p1", "programme_id": "pr", "phase": 2}
CASE = {"resident_id": "r1", "case_id": "c1", "household_id": "h1"}
ACCESS = {"request_id": "a1", "resident_id": "k1", "district": "List",
          "institution": "Kita", "starts": date(2026, 9, 1)}


@pytest.mark.parametrize(("data", "fact"), [
    (ed.EnrolmentConfirmed(**ENR, course_kind="arrival_course"),
     Fact("language_course_enrolled", "r1", {})),
    (ed.EnrolmentConfirmedV2(**ENR, course_kind="integration_course", hours_per_week=20),
     Fact("language_course_enrolled", "r1", {})),
    (ed.EnrolmentPromoted(**ENR, course_kind="literacy"),
     Fact("language_course_enrolled", "r1", {})),
    (ed.EnrolmentConfirmed(**ENR, course_kind="parents_cafe"), None),
    (ed.EnrolmentCompleted(**ENR, course_kind="integration_course", passed=True,
                           certificate_level="B1"),
     Fact("language_course_completed", "r1", {"level": "B1"})),
    (ed.EnrolmentCompleted(**ENR, course_kind="integration_course", passed=False), None),
    (ed.AccessRequestPlaced(**ACCESS, kind="kita"), Fact("kita_place_taken", "k1", {})),
    (ed.AccessRequestPlaced(**ACCESS, kind="school"), Fact("school_place_taken", "k1", {})),
    (hs.MoveOutCaseOpened(**CASE), Fact("move_out_case_opened", "h1", {})),
    (hs.MoveOutCaseAdvanced(**CASE, from_stage="moving", stage="moved_out"),
     Fact("moved_out", "h1", {})),
    (hs.MoveOutCaseAdvanced(**CASE, from_stage="opened", stage="searching"), None),
    (hs.MoveOutCaseClosed(**CASE, outcome="moved_out"), Fact("moved_out", "h1", {})),
    (hs.MoveOutCaseClosed(**CASE, outcome="cancelled"), None),
    (em.ParticipantActivated(**PART), Fact("programme_joined", "r1", {"phase": 2})),
    (em.ParticipantMovedToNextPhase(**{**PART, "phase": 2}, from_phase=1,
                                    status="registered"),
     Fact("programme_phase_completed", "r1", {"phase": 1})),
    (em.ParticipantCompleted(**PART), Fact("programme_phase_completed", "r1", {"phase": 2})),
    (em.PlacementRecorded(**PART, placement_id="pl", kind="internship", sector="IT",
                          starts=date(2026, 9, 1), hours=20),
     Fact("placement", "r1", {"kind": "internship"})),
    (vol.MatchStarted(resident_id="r1", match_id="m1", volunteer_id="v1"),
     Fact("tandem_started", "r1", {})),
    (rf.ReferralAccepted(referral_id="rf1", resident_id="r1", operator_id="op1",
                         topic="volunteers", service="volunteers", became="tandem",
                         reference="m1"),
     Fact("referral_accepted", "r1", {"topic": "volunteers"})),
], ids=lambda v: type(v).__name__ if not isinstance(v, Fact | None) else "")
def test_what_each_event_says(data: Any, fact: Fact | None):
    assert type(data) in TYPES or isinstance(data, ed.EnrolmentConfirmed)
    assert fact_of(wrap(data, source="x")) == fact


def test_the_spec_consumes_every_fact_type():
    consumed = {t for on in spec.consumes for t in on.types}
    assert set(TYPES) <= consumed
