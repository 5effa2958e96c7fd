"""Employment's handlers against the in-memory store: registration with eligibility and
the waitlist, the participation's way, the projection of housing's and education's events
(out of order, twice), referrals, coaching and placements, without servers."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from contracts import Actor
from contracts import employment as ev
from contracts import employment_commands as c
from contracts import referrals as rf
from contracts.counselling import ReferralRequested
from contracts.education import EnrolmentConfirmed, EnrolmentWithdrawn
from contracts.housing import (
    ResidenceStatusChanged,
    ResidentMovedOut,
    ResidentPlaced,
    ResidentRegistered,
    ResidentTransferred,
)
from employment import coaching, participants, placements, programmes, projection, referrals
from im_runtime import Conflict, Forbidden, NotFound
from im_runtime.memory import MemoryStore

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")
ON = date(2026, 9, 1)
feed, run = MemoryStore.feed, MemoryStore.handle


# Event times after every registration a test makes (registrations take the clock's time).
BASE = datetime.now(UTC).replace(microsecond=0) + timedelta(hours=1)


def t(second: int) -> datetime:
    return BASE + timedelta(seconds=second)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore("employment")


async def refuse(store: MemoryStore, handler: Any, cmd: Any, exc: type[Exception]) -> Any:
    before = msgspec.json.encode(store.collections)
    with pytest.raises(exc) as err:
        await store.run(handler, cmd)
    assert msgspec.json.encode(store.collections) == before
    return err.value


async def programme(store: MemoryStore, capacity: int = 2, course: bool = True,
                    phases: int = 2) -> None:
    await run(store, programmes.create_programme, c.CreateProgramme(
        actor=ADMIN, programme_id="p1", name="Arbeit und Sprache", providers=["vhs", "bbw"],
        allowed_statuses=["recognised_refugee", "tolerated"], min_age=18,
        language_course_required=course))
    for n in range(1, phases + 1):
        await run(store, programmes.add_phase, c.AddPhase(
            actor=ADMIN, programme_id="p1", phase=n, starts=date(2026, 3 * n, 1),
            ends=date(2026, 3 * n + 2, 28), capacity=capacity, status="open"))


async def resident(store: MemoryStore, rid: str, site: str = "s1", birth_year: int = 1990,
                   status: str = "recognised_refugee") -> None:
    await feed(store, projection.on_housing, ResidentRegistered(
        resident_id=rid, household_id=f"h-{rid}", birth_year=birth_year,
        residence_status=status, arrival_date=date(2026, 1, 1)), "housing", t(0))  # type: ignore[arg-type]
    await feed(store, projection.on_housing, ResidentPlaced(
        resident_id=rid, household_id=f"h-{rid}", site_id=site, moved_in=ON), "housing", t(1))


async def register(store: MemoryStore, rid: str, phase: int = 1,
                   actor: Actor = ADMIN) -> tuple[c.ParticipationView, list[Any]]:
    return await run(store, participants.register_participant, c.RegisterParticipant(
        actor=actor, programme_id="p1", phase=phase, resident_id=rid))


def enrolment(kind: type, rid: str = "r1", enrolment_id: str = "e1", **kw: Any) -> Any:
    return kind(resident_id=rid, enrolment_id=enrolment_id, course_id="c1",
                course_kind=kw.pop("course_kind", "integration_course"), **kw)


def part(store: MemoryStore, pid: str) -> dict[str, Any]:
    return store.collections["participations"][pid]


@pytest.fixture
async def world(store):
    await programme(store)
    for rid in ("r1", "r2", "r3"):
        await resident(store, rid)
    return store


class TestRegistration:
    async def test_command_ids_with_a_common_prefix_make_distinct_participations(self, world):
        # Found seeding the demo city: ids were cut from the command id's first 16 chars.
        views = []
        for rid in ("r1", "r2"):
            view, _ = await run(world, participants.register_participant,
                                c.RegisterParticipant(actor=ADMIN, programme_id="p1", phase=1,
                                                      resident_id=rid,
                                                      command_id=f"demo:register:p1:{rid}"))
            views.append(view.participation_id)
        assert len(set(views)) == 2

    async def test_without_the_course_the_participant_waits(self, world):
        view, events = await register(world, "r1")
        assert view.state == "waiting_for_language_course"
        assert [type(e) for e in events] == [ev.ParticipantRegistered]

    async def test_a_full_phase_waitlists_and_a_drop_out_promotes(self, world):
        first, _ = await register(world, "r1")
        await register(world, "r2")
        third, events = await register(world, "r3")
        assert (third.state, third.position) == ("waitlisted", 1)
        _, events = await run(world, participants.drop_out_participant, c.DropOutParticipant(
            actor=ADMIN, participation_id=first.participation_id, reason="health"))
        assert [type(e) for e in events] == [ev.ParticipantDroppedOut, ev.ParticipantPromoted]
        assert part(world, third.participation_id)["status"] == "waiting_for_language_course"
        phase = world.collections["phases"]["p1/1"]
        assert (phase["taken"], phase["waitlisted"]) == (2, 0)

    async def test_eligibility_and_unknown_ids(self, world):
        await resident(world, "young", birth_year=2015)
        await resident(world, "pending", status="asylum_pending")
        for rid, rule in (("young", "min_age"), ("pending", "residence_status")):
            err = await refuse(world, participants.register_participant, c.RegisterParticipant(
                actor=ADMIN, programme_id="p1", phase=1, resident_id=rid), Conflict)
            assert err.details["rule"] == rule
        for cmd in (c.RegisterParticipant(actor=ADMIN, programme_id="p1", phase=1,
                                          resident_id="ghost"),
                    c.RegisterParticipant(actor=ADMIN, programme_id="p1", phase=9,
                                          resident_id="r1"),
                    c.RegisterParticipant(actor=ADMIN, programme_id="nope", phase=1,
                                          resident_id="r1")):
            await refuse(world, participants.register_participant, cmd, NotFound)

    async def test_twice_in_one_programme_is_a_conflict(self, world):
        await register(world, "r1")
        await refuse(world, participants.register_participant, c.RegisterParticipant(
            actor=ADMIN, programme_id="p1", phase=2, resident_id="r1"), Conflict)

    async def test_who_may_register(self, world):
        other = Actor(subject="x", role="provider", provider="elsewhere")
        worker = Actor(subject="sw", role="social_worker", sites=("s9",))
        for actor in (other, worker, Actor(subject="a", role="auditor")):
            await refuse(world, participants.register_participant, c.RegisterParticipant(
                actor=actor, programme_id="p1", phase=1, resident_id="r1"), Forbidden)
        ours = Actor(subject="v", role="provider", provider="vhs")
        assert (await register(world, "r1", actor=ours))[0].state


class TestTheWayThroughAPhase:
    async def test_registered_active_placed(self, store):
        await programme(store, course=False)
        await resident(store, "r1")
        view, _ = await register(store, "r1")
        assert view.state == "registered"
        view, _ = await run(store, participants.activate_participant, c.ActivateParticipant(
            actor=ADMIN, participation_id=view.participation_id))
        assert view.state == "active"
        view, events = await run(store, placements.record_placement, c.RecordPlacement(
            actor=ADMIN, participation_id=view.participation_id, kind="job",
            sector="logistics", starts=ON, hours=30))
        assert view.state == "completed" and view.placement_id
        assert [type(e) for e in events] == [ev.PlacementRecorded, ev.ParticipantCompleted]
        await refuse(store, participants.drop_out_participant, c.DropOutParticipant(
            actor=ADMIN, participation_id=view.participation_id, reason="other"), Conflict)

    async def test_moving_to_the_next_phase_frees_the_seat(self, world):
        first, _ = await register(world, "r1")
        await register(world, "r2")
        waiting, _ = await register(world, "r3")
        moved, events = await run(world, participants.move_to_next_phase, c.MoveToNextPhase(
            actor=ADMIN, participation_id=first.participation_id))
        assert (moved.phase, moved.state) == (2, "waiting_for_language_course")
        assert [type(e) for e in events] == [ev.ParticipantMovedToNextPhase,
                                             ev.ParticipantPromoted]
        assert part(world, waiting.participation_id)["status"] == "waiting_for_language_course"
        await refuse(world, participants.move_to_next_phase, c.MoveToNextPhase(
            actor=ADMIN, participation_id=first.participation_id), NotFound)  # no phase 3

    async def test_a_waiting_participant_is_not_activated_by_command(self, world):
        view, _ = await register(world, "r1")
        err = await refuse(world, participants.activate_participant, c.ActivateParticipant(
            actor=ADMIN, participation_id=view.participation_id), Conflict)
        assert err.details["rule"] == "language_course_required"


def end_state(store: MemoryStore) -> Any:
    parts = {k: {f: v for f, v in d.items() if f not in ("history", "_v")}
             for k, d in store.collections.get("participations", {}).items()}
    people = {k: {f: v for f, v in d.items() if f != "_v"}
              for k, d in store.collections["residents"].items()}
    return parts, people


class TestProjection:
    CONFIRMED = enrolment(EnrolmentConfirmed)
    WITHDRAWN = enrolment(EnrolmentWithdrawn, reason="moved")

    async def test_an_enrolment_activates_and_a_withdrawal_flags(self, world):
        view, _ = await register(world, "r1")
        events = await feed(world, projection.on_enrolment, self.CONFIRMED, "education", t(10))
        assert [(type(e), e.automatic) for e in events] == [(ev.ParticipantActivated, True)]
        events = await feed(world, projection.on_enrolment, self.WITHDRAWN, "education", t(20))
        assert [(type(e), e.flag) for e in events] \
            == [(ev.ParticipationFlagged, "language_course_withdrawn")]
        doc = part(world, view.participation_id)
        assert (doc["status"], doc["flags"]) == ("active", ["language_course_withdrawn"])
        again = enrolment(EnrolmentConfirmed, enrolment_id="e2")
        events = await feed(world, projection.on_enrolment, again, "education", t(30))
        assert [type(e) for e in events] == [ev.ParticipationFlagCleared]

    async def test_out_of_order_and_twice_give_the_same_end_state(self):
        steps = [(self.CONFIRMED, t(10)), (self.WITHDRAWN, t(20))]
        outcomes = []
        for order in itertools.permutations(steps * 2):
            store = MemoryStore("employment")
            await programme(store)
            await resident(store, "r1")
            await register(store, "r1")
            for i, (data, at) in enumerate(order):
                await feed(store, projection.on_enrolment, data, "education", at, id=f"x{i}")
            parts, people = end_state(store)
            (only,) = parts.values()
            outcomes.append((only["status"], only["flags"], people))
        first = outcomes[0]
        assert first[:2] == ("active", ["language_course_withdrawn"])
        assert all(o[:2] == first[:2] and o[2] == first[2] for o in outcomes)

    async def test_other_courses_do_not_count(self, world):
        await register(world, "r1")
        cafe = enrolment(EnrolmentConfirmed, course_kind="parents_cafe")
        assert await feed(world, projection.on_enrolment, cafe, "education", t(10)) == []

    async def test_housing_facts_out_of_order(self, store):
        status = ResidenceStatusChanged(resident_id="r1", residence_status="tolerated")
        registered = ResidentRegistered(resident_id="r1", household_id="h", birth_year=1990,
                                        residence_status="asylum_pending",
                                        arrival_date=ON)
        placed = ResidentPlaced(resident_id="r1", household_id="h", site_id="a", moved_in=ON)
        moved = ResidentTransferred(resident_id="r1", household_id="h", from_site_id="a",
                                    site_id="b", moved_on=ON)
        out = ResidentMovedOut(resident_id="r1", household_id="h", site_id="b",
                               reason="own_flat", moved_out=ON)
        steps = [(registered, t(1)), (status, t(2)), (placed, t(3)), (moved, t(4))]
        ends = []
        for order in itertools.permutations(steps):
            store = MemoryStore("employment")
            for data, at in (*order, *order):
                await feed(store, projection.on_housing, data, "housing", at)
            ends.append(end_state(store)[1])
        assert all(e == ends[0] for e in ends)
        assert (ends[0]["r1"]["residence_status"], ends[0]["r1"]["site_id"]) == ("tolerated", "b")
        await feed(store, projection.on_housing, out, "housing", t(5))
        assert store.collections["residents"]["r1"]["site_id"] is None

    async def test_leaving_the_city_ends_open_participations(self, world):
        view, _ = await register(world, "r1")
        events = await feed(world, projection.on_housing, ResidentMovedOut(
            resident_id="r1", household_id="h-r1", site_id="s1", reason="departed",
            moved_out=ON), "housing", t(9))
        assert [(type(e), e.reason) for e in events] == [(ev.ParticipantDroppedOut,
                                                          "moved_away")]
        assert part(world, view.participation_id)["status"] == "dropped_out"


class TestReferralsAndCoaching:
    def referral(self, rid: str, topic: str = "work_qualification") -> ReferralRequested:
        return ReferralRequested(referral_id=f"ref-{rid}", resident_id=rid, operator_id="op1",
                                 site_id="s1", topic=topic, requested_on=ON)  # type: ignore[arg-type]

    async def test_a_referral_opens_a_need_once(self, world):
        events = await feed(world, referrals.on_referral_requested, self.referral("r1"),
                            "counselling")
        assert [type(e) for e in events] == [ev.CoachingNeedOpened,
                                             rf.ReferralAccepted]
        need_id = events[0].need_id
        assert events[1].reference == need_id
        assert await feed(world, referrals.on_referral_requested, self.referral("r1"),
                          "counselling") == []
        view, events = await run(world, coaching.record_coaching, c.RecordCoaching(
            actor=ADMIN, resident_id="r1", topic="recognition_of_qualifications", on=ON,
            need_id=need_id))
        assert view.open_needs == 0 and [type(e) for e in events] == [ev.CoachingRecorded]
        await refuse(world, coaching.record_coaching, c.RecordCoaching(
            actor=ADMIN, resident_id="r1", topic="applications", on=ON, need_id=need_id),
            Conflict)

    async def test_unknown_residents_are_turned_down_and_other_topics_ignored(self, world):
        events = await feed(world, referrals.on_referral_requested, self.referral("ghost"),
                            "counselling")
        assert [type(e) for e in events] == [rf.ReferralRejected]
        from contracts import wrap
        from employment.plugin import spec

        other = wrap(self.referral("r1", topic="housing_search"), source="counselling")
        assert spec.router()(other) is None  # no route of employment's takes that topic

    async def test_a_resident_no_open_programme_admits_is_rejected_with_the_reason(self, world):
        await resident(world, "r9", status="asylum_pending")
        events = await feed(world, referrals.on_referral_requested, self.referral("r9"),
                            "counselling")
        assert [type(e) for e in events] == [rf.ReferralRejected]
        assert events[0].reason == "residence status asylum_pending is not admitted to p1"
        assert events[0].service == "employment" and "needs" not in world.collections

    async def test_a_placement_completes_the_referral(self, store):
        await programme(store, course=False)
        await resident(store, "r1")
        accepted = await feed(store, referrals.on_referral_requested, self.referral("r1"),
                              "counselling")
        assert accepted[-1].became == "coaching_need"
        view, _ = await register(store, "r1")
        view, _ = await run(store, participants.activate_participant, c.ActivateParticipant(
            actor=ADMIN, participation_id=view.participation_id))
        view, events = await run(store, placements.record_placement, c.RecordPlacement(
            actor=ADMIN, participation_id=view.participation_id, kind="job",
            sector="logistics", starts=ON, hours=30))
        done = [e for e in events if isinstance(e, rf.ReferralCompleted)]
        assert len(done) == 1 and (done[0].referral_id, done[0].outcome) == ("ref-r1", "placed")
        assert (done[0].became, done[0].reference) == ("placement", view.placement_id)

    async def test_coaching_is_for_the_city_social_workers(self, world):
        for actor in (Actor(subject="v", role="provider", provider="vhs"),
                      Actor(subject="sw", role="social_worker", sites=("s9",))):
            await refuse(world, coaching.record_coaching, c.RecordCoaching(
                actor=actor, resident_id="r1", topic="internships", on=ON), Forbidden)
        worker = Actor(subject="sw", role="social_worker", sites=("s1",))
        view, _ = await run(world, coaching.record_coaching, c.RecordCoaching(
            actor=worker, resident_id="r1", topic="internships", on=ON))
        assert view.coaching_id
