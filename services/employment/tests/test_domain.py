"""Employment's rules without I/O: eligibility, seats, the participation state machine and
the enrolment merge."""

from __future__ import annotations

import itertools

import pytest

from employment.domain import (
    TRANSITIONS,
    IllegalTransition,
    course_since,
    eligibility,
    has_free_seat,
    holds_course,
    merge_enrolment,
    seated_status,
    transition,
)
from im_runtime import Conflict

pytestmark = pytest.mark.unit

PROGRAMME = {"_id": "p1", "allowed_statuses": ["recognised_refugee", "tolerated"],
             "min_age": 18, "language_course_required": True}
PHASE = {"starts": "2026-09-01", "capacity": 2, "taken": 1}


class TestEligibility:
    def test_an_eligible_resident_passes(self):
        eligibility(PROGRAMME, PHASE, {"residence_status": "tolerated", "birth_year": 1990})

    def test_a_status_not_admitted(self):
        with pytest.raises(Conflict) as err:
            eligibility(PROGRAMME, PHASE, {"residence_status": "asylum_pending",
                                           "birth_year": 1990})
        assert err.value.details["rule"] == "residence_status"

    @pytest.mark.parametrize("birth_year, ok", [(2008, True), (2009, False), (2015, False)])
    def test_minimum_age_at_the_phase_start(self, birth_year, ok):
        resident = {"residence_status": "tolerated", "birth_year": birth_year}
        if ok:
            eligibility(PROGRAMME, PHASE, resident)
        else:
            with pytest.raises(Conflict) as err:
                eligibility(PROGRAMME, PHASE, resident)
            assert err.value.details["rule"] == "min_age"


class TestSeats:
    def test_free_and_full(self):
        assert has_free_seat({"capacity": 2, "taken": 1})
        assert not has_free_seat({"capacity": 2, "taken": 2})
        assert not has_free_seat({"capacity": 0, "taken": 0})

    def test_where_a_seated_participant_starts(self):
        with_course = {"enrolments": {"e1": {"state": "confirmed"}}}
        assert seated_status(PROGRAMME, with_course) == "registered"
        assert seated_status(PROGRAMME, {}) == "waiting_for_language_course"
        assert seated_status({**PROGRAMME, "language_course_required": False}, {}) \
            == "registered"


class TestStateMachine:
    @pytest.mark.parametrize("current, wanted", [
        ("waitlisted", "registered"), ("registered", "active"),
        ("waiting_for_language_course", "active"), ("active", "completed"),
        ("active", "dropped_out"), ("registered", "dropped_out")])
    def test_allowed(self, current, wanted):
        assert transition(current, wanted, "pt1") == wanted

    @pytest.mark.parametrize("current, wanted", [
        ("completed", "active"), ("dropped_out", "registered"), ("registered", "completed"),
        ("waitlisted", "active"), ("completed", "dropped_out"), ("active", "registered")])
    def test_refused(self, current, wanted):
        with pytest.raises(IllegalTransition) as err:
            transition(current, wanted, "pt1")
        assert err.value.code == "conflict"
        assert err.value.details == {"participation_id": "pt1", "state": current,
                                     "wanted": wanted}

    def test_closed_states_are_final(self):
        assert TRANSITIONS["completed"] == TRANSITIONS["dropped_out"] == frozenset()


class TestEnrolmentMerge:
    STEPS = [("confirmed", 1.0, True), ("withdrawn", 2.0, True)]

    def fold(self, steps):
        doc = None
        for state, at, confirmed in steps:
            doc = merge_enrolment(doc, state, at, confirmed)
        return doc

    def test_any_order_and_repeats_give_the_same_enrolment(self):
        results = [self.fold(p) for n in (1, 2)
                   for p in itertools.permutations(self.STEPS * n)]
        assert all(r == results[0] for r in results)
        assert results[0]["state"] == "withdrawn" and results[0]["ended_at"] == 2.0
        assert results[0]["ever_confirmed"]

    def test_completion_beats_confirmation_and_holds_the_course(self):
        doc = self.fold([("completed", 5.0, True), ("confirmed", 1.0, True)])
        assert doc["state"] == "completed"
        assert holds_course({"enrolments": {"e": doc}})

    def test_a_withdrawal_from_the_waitlist_never_held_a_seat(self):
        doc = self.fold([("withdrawn", 2.0, False)])
        assert not doc["ever_confirmed"]
        assert not course_since({"enrolments": {"e": doc}}, 0.0)

    def test_a_course_that_ended_before_registration_does_not_count(self):
        resident = {"enrolments": {"e": self.fold(self.STEPS)}}
        assert course_since(resident, 1.5) and not course_since(resident, 3.0)
        assert not holds_course(resident)
