"""The seat rules on one course document, without I/O."""

from __future__ import annotations

import pytest

from education import domain
from im_runtime import Conflict

pytestmark = pytest.mark.unit


def course(capacity: int = 2, childcare: int = 0) -> domain.Course:
    return domain.new_course(_id="c1", kind="arrival_course", status="planned",
                             capacity=capacity, childcare_places=childcare)


def kinds(changes: list[domain.Change]) -> list[tuple[str, ...]]:
    return [(c.kind, c.enrolment_id, *((c.child_id,) if c.child_id else ()),
             *((c.position,) if c.position else ())) for c in changes]


def fill(c: domain.Course, n: int) -> None:
    for i in range(n):
        domain.enrol(c, f"e{i}", f"r{i}", [])


class TestEnrolment:
    def test_seats_then_a_fifo_waitlist(self):
        c = course(capacity=2)
        got = [kinds(domain.enrol(c, f"e{i}", f"r{i}", [])) for i in range(5)]
        assert got == [[("confirmed", "e0")], [("confirmed", "e1")], [("waitlisted", "e2", 1)],
                       [("waitlisted", "e3", 2)], [("waitlisted", "e4", 3)]]
        assert [domain.position(c, f"e{i}") for i in range(5)] == [None, None, 1, 2, 3]

    def test_no_double_enrolment_seated_or_waiting(self):
        c = course(capacity=1)
        fill(c, 2)
        for rid in ("r0", "r1"):
            with pytest.raises(Conflict) as exc:
                domain.enrol(c, "again", rid, [])
            assert exc.value.details["resident_id"] == rid
        assert len(c["seats"]) + len(c["waitlist"]) == 2

    def test_withdrawal_promotes_the_oldest_waiting(self):
        c = course(capacity=2)
        fill(c, 5)
        assert kinds(domain.withdraw(c, "e1")) == [("released", "e1"), ("promoted", "e2")]
        assert [x["e"] for x in c["seats"]] == ["e0", "e2"]
        assert [domain.position(c, e) for e in ("e3", "e4")] == [1, 2]
        # leaving the waitlist promotes nobody and closes the gap
        assert kinds(domain.withdraw(c, "e3")) == [("released", "e3")]
        assert domain.position(c, "e4") == 1
        with pytest.raises(Conflict):
            domain.withdraw(c, "e3")

    def test_more_seats_promote_in_order_fewer_than_taken_is_refused(self):
        c = course(capacity=2)
        fill(c, 6)
        assert kinds(domain.resize(c, 4, 0)) == [("promoted", "e2"), ("promoted", "e3")]
        with pytest.raises(Conflict) as exc:
            domain.resize(c, 3, 0)
        assert exc.value.details["taken"] == "4"
        assert kinds(domain.resize(c, 4, 0)) == []
        assert c["capacity"] == 4 and len(c["waitlist"]) == 2

    def test_cancelling_releases_everyone_once(self):
        c = course(capacity=2, childcare=1)
        domain.enrol(c, "e0", "r0", ["k0", "k1"])
        fill_more = [domain.enrol(c, f"e{i}", f"r{i}", []) for i in (1, 2)]
        assert fill_more
        got = kinds(domain.cancel(c))
        assert got == [("released", "e0"), ("released", "e1"), ("released", "e2"),
                       ("care_released", "e0", "k0"), ("care_released", "e0", "k1")]
        assert c["status"] == "cancelled" and not (c["seats"] or c["waitlist"] or c["care"])
        for again in (lambda: domain.cancel(c), lambda: domain.enrol(c, "x", "rx", [])):
            with pytest.raises(Conflict):
                again()


class TestChildcare:
    def test_places_are_a_separate_capacity_with_their_own_waitlist(self):
        c = course(capacity=3, childcare=2)
        assert kinds(domain.enrol(c, "e0", "r0", ["k0"])) == [
            ("confirmed", "e0"), ("care_placed", "e0", "k0")]
        assert kinds(domain.enrol(c, "e1", "r1", ["k1", "k2", "k1"])) == [
            ("confirmed", "e1"), ("care_placed", "e1", "k1"), ("care_waitlisted", "e1", "k2", 1)]
        # the parent's seat does not wait for childcare and vice versa
        assert kinds(domain.enrol(c, "e2", "r2", [])) == [("confirmed", "e2")]
        assert kinds(domain.withdraw(c, "e0")) == [
            ("released", "e0"), ("care_released", "e0", "k0"), ("care_placed", "e1", "k2")]

    def test_a_waitlisted_parents_children_wait_for_the_seat(self):
        c = course(capacity=1, childcare=5)
        domain.enrol(c, "e0", "r0", [])
        assert kinds(domain.enrol(c, "e1", "r1", ["k1"])) == [("waitlisted", "e1", 1)]
        assert c["care"] == []
        assert kinds(domain.add_children(c, "e1", ["k2"])) == []
        assert kinds(domain.withdraw(c, "e0")) == [
            ("released", "e0"), ("promoted", "e1"), ("care_placed", "e1", "k1"),
            ("care_placed", "e1", "k2")]

    def test_more_childcare_places_promote_children(self):
        c = course(capacity=1, childcare=0)
        domain.enrol(c, "e0", "r0", ["k0", "k1"])
        assert kinds(domain.resize(c, 1, 1)) == [("care_placed", "e0", "k0")]
        with pytest.raises(Conflict):
            domain.resize(c, 1, 0)
