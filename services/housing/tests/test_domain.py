"""Housing's rules, without servers."""

import itertools

import pytest

from housing.domain import IllegalTransition, check_room, next_stage
from im_runtime import Conflict, DomainError

pytestmark = pytest.mark.unit

PATH = ["opened", "searching", "offer_received", "viewing", "lease_signed", "moving",
        "moved_out"]


class TestStateMachine:
    def test_the_forward_path_is_allowed(self):
        for before, after in itertools.pairwise(PATH):
            assert next_stage(before, after, None, None) == after

    @pytest.mark.parametrize("before, after", [
        ("opened", "viewing"), ("opened", "moved_out"), ("searching", "lease_signed"),
        ("lease_signed", "searching"), ("moving", "opened"), ("opened", "opened"),
    ])
    def test_skipping_or_going_back_is_refused(self, before, after):
        with pytest.raises(IllegalTransition) as err:
            next_stage(before, after, None, None)
        assert err.value.code == "conflict"
        assert err.value.details["stage"] == before

    @pytest.mark.parametrize("terminal", ["moved_out", "cancelled"])
    def test_closed_cases_never_change(self, terminal):
        with pytest.raises(IllegalTransition, match="cannot change any more"):
            next_stage(terminal, "searching", None, "x")

    def test_pause_and_cancel_need_a_reason(self):
        with pytest.raises(DomainError, match="needs a reason") as err:
            next_stage("searching", "paused", None, None)
        assert err.value.code == "bad_request"
        assert next_stage("searching", "paused", None, "ill") == "paused"
        assert next_stage("viewing", "cancelled", None, "moved away") == "cancelled"

    def test_a_paused_case_resumes_where_it_was(self):
        assert next_stage("paused", "viewing", "viewing", None) == "viewing"
        with pytest.raises(IllegalTransition, match="resumes at viewing"):
            next_stage("paused", "searching", "viewing", None)

    def test_signed_leases_cannot_be_paused(self):
        with pytest.raises(IllegalTransition):
            next_stage("lease_signed", "paused", None, "wait")


class TestCapacity:
    site = {"_id": "s1", "capacity": 10, "occupancy": 8}

    def test_room_left(self):
        check_room(self.site, 2, False, None)

    def test_full_is_refused_with_figures(self):
        with pytest.raises(Conflict) as err:
            check_room(self.site, 3, False, None)
        assert err.value.details == {"site_id": "s1", "capacity": "10", "occupancy": "8",
                                     "needed": "3", "rule": "site_full"}

    def test_override_needs_a_reason(self):
        with pytest.raises(DomainError, match="override_reason"):
            check_room(self.site, 3, True, None)
        check_room(self.site, 3, True, "fire at another shelter")
