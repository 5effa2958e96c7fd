"""Erasing a resident from employment and its retention rules, against the in-memory
store: state is built through the handlers, the erasure leaves no trace of the resident
but the same figures, and retention removes what is past its period."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import msgspec
import pytest

from contracts import Actor
from contracts import employment_commands as c
from contracts.counselling import ReferralRequested
from contracts.education import EnrolmentConfirmed
from contracts.housing import ResidentMovedOut, ResidentPlaced, ResidentRegistered
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from employment import (
    coaching,
    participants,
    placements,
    programmes,
    projection,
    queries,
    referrals,
    store,
)
from employment.plugin import spec
from im_runtime import NotFound
from im_runtime.memory import MemoryStore
from im_runtime.privacy import erase_committed
from im_runtime.retention import expired_counts, run_committed
from im_runtime.spec import Erased

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")
SITE = "s-erase"
ON = date(2026, 9, 1)


def rnd(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


feed, run, ask = MemoryStore.feed, MemoryStore.run, MemoryStore.ask
erase = partial(erase_committed, spec)
retain = partial(run_committed, spec)


async def programme(mem: MemoryStore, pid: str, course: bool, capacity: int) -> None:
    await run(mem, programmes.create_programme, c.CreateProgramme(
        actor=ADMIN, programme_id=pid, name="Arbeit", providers=["vhs"],
        allowed_statuses=["recognised_refugee"], language_course_required=course))
    for n in (1, 2):
        await run(mem, programmes.add_phase, c.AddPhase(
            actor=ADMIN, programme_id=pid, phase=n, starts=date(2026, 3 * n, 1),
            ends=date(2026, 3 * n + 2, 28), capacity=capacity, status="open"))


async def resident(mem: MemoryStore, rid: str, at: datetime | None = None) -> None:
    at = at or datetime.now(UTC)
    await feed(mem, projection.on_housing, ResidentRegistered(
        resident_id=rid, household_id=f"h-{rid}", birth_year=1990,
        residence_status="recognised_refugee", arrival_date=ON), "housing", at)
    await feed(mem, projection.on_housing, ResidentPlaced(
        resident_id=rid, household_id=f"h-{rid}", site_id=SITE, moved_in=ON), "housing",
        at + timedelta(seconds=1))
    await feed(mem, projection.on_enrolment, EnrolmentConfirmed(
        resident_id=rid, enrolment_id=rnd("e"), course_id="c1",
        course_kind="integration_course"), "education", at + timedelta(seconds=2))


async def register(mem: MemoryStore, rid: str, pid: str, phase: int = 1) -> str:
    view = await run(mem, participants.register_participant, c.RegisterParticipant(
        actor=ADMIN, programme_id=pid, phase=phase, resident_id=rid))
    return view.participation_id  # type: ignore[no-any-return]


async def placed(mem: MemoryStore, rid: str, pid: str) -> str:
    """Registered, activated and placed in a job: a completed participation."""
    part = await register(mem, rid, pid)
    await run(mem, participants.activate_participant, c.ActivateParticipant(
        actor=ADMIN, participation_id=part))
    await run(mem, placements.record_placement, c.RecordPlacement(
        actor=ADMIN, participation_id=part, kind="job", sector="care", starts=ON, hours=30))
    return part


async def need(mem: MemoryStore, rid: str, on: date = ON) -> str:
    (opened, _) = await feed(mem, referrals.on_referral_requested, ReferralRequested(
        referral_id=rnd("ref"), resident_id=rid, operator_id="op1", site_id=SITE,
        topic="work_qualification", requested_on=on), "counselling")
    return opened.need_id  # type: ignore[no-any-return]


async def coach(mem: MemoryStore, rid: str, need_id: str | None, on: date = ON) -> None:
    await run(mem, coaching.record_coaching, c.RecordCoaching(
        actor=ADMIN, resident_id=rid, topic="applications", on=on, need_id=need_id,
        summary=f"CV of {rid} reviewed"))


@pytest.fixture
async def world() -> tuple[MemoryStore, str, str]:
    """Resident `me` in every collection (a placement, an open participation, a place on
    a waitlist, coaching, a met and an open need); `other` at the same site."""
    mem, me, other = MemoryStore("employment"), rnd("r"), rnd("r")
    await programme(mem, "p1", course=True, capacity=2)
    await programme(mem, "p2", course=False, capacity=1)
    for rid in (me, other):
        await resident(mem, rid)
    await register(mem, other, "p2")  # takes p2's only seat in phase 1
    await register(mem, other, "p1")
    await need(mem, other)
    await placed(mem, me, "p1")
    await register(mem, me, "p1", phase=2)
    await register(mem, me, "p2")  # waitlisted
    await coach(mem, me, await need(mem, me))
    await need(mem, me)
    return mem, me, other




async def figures(mem: MemoryStore) -> tuple[Any, Any]:
    return (await ask(mem, queries.city_stats, GetCityStats()),
            await ask(mem, queries.site_overview, GetSiteOverview(site_id=SITE)))


class TestErasure:
    async def test_nothing_of_the_resident_is_left(self, world):
        mem, me, _ = world
        assert mem.mentions(me)
        done = await erase(mem, me)
        assert mem.mentions(me) == []
        assert done.anonymised == {"participations": 3, "placements": 1, "coaching": 1,
                                   "coaching_needs": 1, "residents": 1}
        assert done.removed == {"coaching_needs": 1}

    async def test_stand_ins_hold_only_what_the_statistics_need(self, world):
        mem, me, _ = world
        await erase(mem, me)
        stand_ins = [d for docs in mem.collections.values() for d in docs.values()
                     if d.get("anonymised")]
        assert len(stand_ins) == 7
        for doc in stand_ins:
            assert doc["_id"].startswith("anon-")
            assert not {"summary", "birth_year", "household_id", "history", "enrolments",
                        "referral_id", "registered_at", "sector"} & set(doc)

    async def test_the_figures_stay_the_same(self, world):
        mem, me, _ = world
        city, site = await figures(mem)
        assert city["coaching"] == {"sessions": 1, "open_needs": 2}
        await erase(mem, me)
        city_after, site_after = await figures(mem)
        assert city_after == city
        listed = [p for p in site["participations"] if p["resident_id"] != me]
        assert site_after == {**site, "participations": listed}
        assert site_after["participants"] == 2 and len(listed) == 2

    async def test_views_and_lists_no_longer_show_the_resident(self, world):
        mem, me, other = world
        assert await ask(mem, queries.resident_overview, GetResidentOverview(resident_id=me))
        await erase(mem, me)
        assert await ask(mem, queries.resident_overview,
                         GetResidentOverview(resident_id=me)) is None
        site = await ask(mem, queries.site_overview, GetSiteOverview(site_id=SITE))
        assert {p["resident_id"] for p in site["participations"]} == {other}
        with pytest.raises(NotFound):
            await store.resident(mem.unit_of_work("employment"), me)

    async def test_a_second_erasure_changes_nothing(self, world):
        mem, me, _ = world
        await erase(mem, me)
        before = mem.snapshot()
        assert await erase(mem, me) == Erased()
        assert mem.snapshot() == before

    async def test_another_resident_is_untouched(self, world):
        mem, me, other = world
        before = mem.about(other)
        await erase(mem, me)
        assert mem.about(other) == before

    async def test_a_stand_in_keeps_its_count_but_no_seat_is_given_to_it(self, world):
        mem, me, other = world
        await erase(mem, me)
        (waiting,) = [d for d in mem.collections[store.PARTICIPATIONS].values()
                      if d.get("anonymised") and d["status"] == "waitlisted"]
        (seat,) = [d["_id"] for d in mem.collections[store.PARTICIPATIONS].values()
                   if d["resident_id"] == other and d["programme_id"] == "p2"]
        await run(mem, participants.drop_out_participant, c.DropOutParticipant(
            actor=ADMIN, participation_id=seat, reason="health"))
        assert mem.collections[store.PARTICIPATIONS][waiting["_id"]]["status"] == "waitlisted"
        with pytest.raises(NotFound):
            await run(mem, participants.drop_out_participant, c.DropOutParticipant(
                actor=ADMIN, participation_id=waiting["_id"], reason="health"))


class TestRetention:
    @pytest.fixture
    async def dated(self) -> tuple[MemoryStore, datetime, dict[str, Any]]:
        """Today: a placement (which ended its participation), coaching on a met need, an
        open participation, and a resident who left the city."""
        now = datetime.now(UTC)
        mem, stays, goes = MemoryStore("employment"), rnd("r"), rnd("r")
        await programme(mem, "p1", course=True, capacity=2)
        for rid in (stays, goes):
            await resident(mem, rid, now - timedelta(days=1))
        ended = await placed(mem, goes, "p1")
        open_part = await register(mem, stays, "p1")
        await coach(mem, goes, await need(mem, goes, now.date()), now.date())
        await feed(mem, projection.on_housing, ResidentMovedOut(
            resident_id=goes, household_id=f"h-{goes}", site_id=SITE,
            reason="other_municipality", moved_out=now.date()), "housing", now)
        return mem, now, {"ended": ended, "open": open_part, "stays": stays, "goes": goes}

    async def test_nothing_is_due_within_three_years(self, dated):
        mem, now, _ = dated
        out = await retain(mem, now + timedelta(days=1094), dry_run=False)
        assert expired_counts(out) == {
            "participations": 0, "placements": 0, "coaching": 0, "coaching_needs": 0,
            "residents": 0}

    async def test_a_dry_run_lists_without_removing(self, dated):
        mem, now, ids = dated
        before = msgspec.json.encode(mem.collections)
        out = await retain(mem, now + timedelta(days=1096), dry_run=True)
        assert out["rules"]["participations"]["ids"] == [ids["ended"]]
        assert out["rules"]["residents"]["ids"] == [ids["goes"]]
        assert all(rule["expired"] == 1 for rule in out["rules"].values())
        assert msgspec.json.encode(mem.collections) == before

    async def test_records_past_their_period_are_removed_the_rest_stay(self, dated):
        mem, now, ids = dated
        await retain(mem, now + timedelta(days=1096), dry_run=False)
        assert set(mem.collections[store.PARTICIPATIONS]) == {ids["open"]}
        assert set(mem.collections[store.RESIDENTS]) == {ids["stays"]}
        for gone in (store.PLACEMENTS, store.COACHING, store.NEEDS):
            assert mem.collections[gone] == {}
