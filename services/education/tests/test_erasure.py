"""Erasure and retention in education against the in-memory store: a parent with
enrolments (seated, waitlisted, completed), a child's Kita request and referrals, and
their child in the course's childcare, are erased one at a time; nothing names them
afterwards, the figures stay, the rest of the course is untouched, and records past their
retention period go. (Education holds no names: residents are known by id only.) Against
the in-memory store, and the main cases again on the MongoDB-wire server."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from functools import partial
from typing import Any

import msgspec
import pytest

from contracts import Actor, wrap
from contracts import education_commands as c
from contracts.counselling import ReferralRequested
from contracts.housing import ResidentMovedOut, ResidentPlaced, ResidentRegistered, SiteRegistered
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from education import (
    attendance,
    courses,
    enrolment,
    erasure,
    outcomes,
    queries,
    referrals,
    residents,
    schooling,
    store,
)
from education.plugin import spec
from im_runtime import NotFound
from im_runtime.memory import MemoryStore, mentioned
from im_runtime.privacy import RUNTIME_COLLECTIONS, confirm_erasure
from im_runtime.retention import expired_counts, run_committed
from im_runtime.spec import Erased
from im_runtime.storage.mongo import MongoStore

ADMIN = Actor(subject="admin-1", role="city_admin")
VHS = Actor(subject="p1", role="provider", provider="vhs")
PARENT, CHILD, MATE, OTHER, OTHER_KID = (
    "r-parent-7f3a", "r-child-c41e", "r-mate-92bd", "r-other-0d55", "r-kid-5e10")


async def run(mem: Any, handler: Any, msg: Any) -> tuple[Any, list[Any]]:
    uow = mem.unit_of_work("education")
    reply = await handler(msg, uow)
    await uow.commit()
    return reply, [e.data for e in uow.events]


async def housing_knows(mem: Any, rid: str, born: int, site: str = "s1") -> None:
    await run(mem, residents.on_resident_registered, wrap(ResidentRegistered(
        resident_id=rid, household_id=f"h-{rid}", birth_year=born,
        residence_status="tolerated", arrival_date=date(2026, 1, 1)), source="housing"))
    await run(mem, residents.on_resident_moved, wrap(ResidentPlaced(
        resident_id=rid, household_id=f"h-{rid}", site_id=site, moved_in=date(2026, 1, 5)),
        source="housing"))


async def course(mem: Any, course_id: str, kind: str = "arrival_course",
                 capacity: int = 2, starts: date = date(2026, 3, 2),
                 ends: date = date(2026, 6, 26)) -> None:
    await run(mem, courses.create_course, c.CreateCourse(
        actor=VHS, course_id=course_id, kind=kind, title=course_id,
        level="A1" if kind == "integration_course" else None,
        provider="adult_education_centre", site_id="s1", starts=starts, ends=ends,
        capacity=capacity, childcare_places=1))


async def enrol(mem: Any, rid: str, course_id: str,
                children: list[str] | None = None) -> str:
    view, _ = await run(mem, enrolment.enrol, c.Enrol(
        actor=ADMIN, course_id=course_id, resident_id=rid, children=children or []))
    return str(view.enrolment_id)


async def complete(mem: Any, eid: str) -> None:
    await run(mem, attendance.complete_enrolment, c.CompleteEnrolment(
        actor=ADMIN, enrolment_id=eid, passed=True))


async def withdraw(mem: Any, eid: str) -> list[Any]:
    _, events = await run(mem, enrolment.withdraw, c.Withdraw(
        actor=ADMIN, enrolment_id=eid, reason="moved away"))
    return events


async def referred(mem: Any, rid: str, topic: str,
                   at: datetime | None = None) -> None:
    await run(mem, referrals.on_referral_requested, wrap(ReferralRequested(
        referral_id=f"ref-{topic}-{rid}", resident_id=rid, operator_id="op1", site_id="s1",
        topic=topic, requested_on=date(2026, 3, 2)), source="counselling", time=at))


async def placed(mem: Any, child: str, parent: str | None) -> str:
    """A school request offered and accepted: a concluded one."""
    req, _ = await run(mem, schooling.request_access, c.RequestAccess(
        actor=ADMIN, resident_id=child, parent_id=parent, kind="school", district="List"))
    await run(mem, schooling.offer_place, c.OfferAccessPlace(
        actor=ADMIN, request_id=req.request_id, institution="IGS List",
        starts=date(2026, 8, 1)))
    await run(mem, schooling.conclude, c.ConcludeAccess(
        actor=ADMIN, request_id=req.request_id, outcome="placed"))
    return str(req.request_id)


@dataclass
class World:
    """Enrolment ids by resident in three courses, and the child's open Kita request."""

    cafe: dict[str, str]  # parents' café: the parent (the child in childcare), the mate
    a1: dict[str, str]  # A1, one seat: the mate seated; the parent, then the other waiting
    done: dict[str, str]  # finished: the parent completed, the mate withdrew
    kita: str  # made by the parent for the child


@pytest.fixture
def mem() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def world(mem: MemoryStore) -> World:
    return await build(mem)


async def build(mem: Any) -> World:
    await run(mem, residents.on_site_registered, wrap(SiteRegistered(
        site_id="s1", kind="shelter", name="Munzeler", operator_id="op1", district="Bothfeld",
        capacity=40), source="housing"))
    for rid, born in ((PARENT, 1990), (CHILD, 2023), (MATE, 1985), (OTHER, 1992),
                      (OTHER_KID, 2016)):
        await housing_knows(mem, rid, born)
    await course(mem, "done")
    done = {PARENT: await enrol(mem, PARENT, "done"), MATE: await enrol(mem, MATE, "done")}
    await run(mem, attendance.record_attendance, c.RecordAttendance(
        actor=ADMIN, enrolment_id=done[PARENT], session_on=date(2026, 3, 9), present=True))
    await complete(mem, done[PARENT])
    await withdraw(mem, done[MATE])
    await run(mem, courses.change_course, c.ChangeCourse(
        actor=VHS, course_id="done", status="finished"))
    await course(mem, "cafe", kind="parents_cafe")
    cafe = {PARENT: await enrol(mem, PARENT, "cafe", [CHILD]),
            MATE: await enrol(mem, MATE, "cafe")}
    await course(mem, "a1", kind="integration_course", capacity=1)
    a1 = {MATE: await enrol(mem, MATE, "a1")}
    await referred(mem, PARENT, "language_course")  # waitlisted in a1, the one open
    (a1[PARENT],) = [e["_id"] for e in await mem.unit_of_work("education").find(
        store.ENROLMENTS, {"resident_id": PARENT, "course_id": "a1"})]
    a1[OTHER] = await enrol(mem, OTHER, "a1")
    req, _ = await run(mem, schooling.request_access, c.RequestAccess(
        actor=ADMIN, resident_id=CHILD, parent_id=PARENT, kind="kita", district="Bothfeld"))
    await referred(mem, CHILD, "kita_school")  # links to the open request
    await referred(mem, PARENT, "kita_school")  # rejected: an adult
    await placed(mem, OTHER_KID, OTHER)
    return World(cafe, a1, done, str(req.request_id))


# what the service shows -------------------------------------------------------------------

async def figures(mem: Any) -> list[Any]:
    uow = mem.unit_of_work("education")
    return [await queries.city_stats(GetCityStats(), uow),
            await queries.site_overview(GetSiteOverview(site_id="s1"), uow)]


async def overview(mem: Any, rid: str) -> dict[str, Any] | None:
    return await queries.resident_overview(GetResidentOverview(actor=ADMIN, resident_id=rid),
                                           mem.unit_of_work("education"))



def docs_of(mem: MemoryStore, rid: str) -> dict[str, Any]:
    """Every document naming `rid`, and its entries in the courses' lists (to compare
    before and after)."""
    own = {key: mem.document(key) for key in mem.mentions(rid)
           if not key.startswith(f"{store.COURSES}/")}
    seats = {f"{cid}/{key}": entry for cid, course in mem.collections[store.COURSES].items()
             for key in ("seats", "waitlist", "care", "care_waitlist")
             for entry in course[key] if rid in (entry.get("r"), entry.get("c"))}
    return {**own, **seats}


erase = partial(confirm_erasure, spec)  # through the runtime, as a request arrives


# erasure --------------------------------------------------------------------------------

@pytest.mark.unit
class TestErasure:
    def test_the_spec_registers_the_hook(self):
        assert spec.erase is erasure.erase

    @pytest.mark.parametrize("who", [PARENT, CHILD])
    async def test_nothing_names_them_and_the_figures_stay(self, mem, world, who):
        assert mem.mentions(who)
        before = await figures(mem)
        await erase(mem, who)
        assert mem.mentions(who) == []
        assert await figures(mem) == before

    @pytest.mark.parametrize(("who", "removed", "anonymised"), [
        (PARENT, {"referrals": 2, "residents": 1},
         {"enrolments": 3, "courses": 3, "access_requests": 1}),
        (CHILD, {"referrals": 1, "residents": 1},
         {"enrolments": 1, "courses": 1, "access_requests": 1}),
    ])
    async def test_the_confirmation_counts_honestly(self, mem, world, who, removed,
                                                    anonymised):
        confirmed = await erase(mem, who)
        assert (confirmed.removed, confirmed.anonymised) == (removed, anonymised)

    async def test_views_no_longer_show_the_parent(self, mem, world):
        assert await overview(mem, PARENT) is not None
        await erase(mem, PARENT)
        assert await overview(mem, PARENT) is None
        for eid in (world.cafe[PARENT], world.a1[PARENT], world.done[PARENT]):
            with pytest.raises(NotFound):
                await run(mem, enrolment.get_enrolment,
                          c.GetEnrolment(actor=ADMIN, enrolment_id=eid))
        child = await overview(mem, CHILD)
        assert child is not None and child["access_requests"][0]["status"] == "open"

    async def test_views_no_longer_show_the_child(self, mem, world):
        parent = await overview(mem, PARENT)
        assert parent is not None and parent["children_access"]
        assert [c["child_id"] for e in parent["enrolments"] for c in e["childcare"]] == [CHILD]
        await erase(mem, CHILD)
        assert await overview(mem, CHILD) is None
        parent = await overview(mem, PARENT)
        assert parent is not None and parent["children_access"] == []
        assert [c for e in parent["enrolments"] for c in e["childcare"]] == []
        with pytest.raises(NotFound):
            await run(mem, schooling.offer_place, c.OfferAccessPlace(
                actor=ADMIN, request_id=world.kita, institution="Kita", starts=date(2026, 8, 1)))

    async def test_stand_ins_cannot_be_read_or_acted_on(self, mem, world):
        await erase(mem, PARENT)
        await erase(mem, CHILD)
        enrolments = [d for d in mem.collections[store.ENROLMENTS].values()
                      if d.get("anonymised")]
        requests = [d for d in mem.collections[store.ACCESS].values() if d.get("anonymised")]
        assert len(enrolments) == 3 and len(requests) == 1
        for doc in enrolments:
            with pytest.raises(NotFound):
                await run(mem, enrolment.withdraw, c.Withdraw(
                    actor=ADMIN, enrolment_id=doc["_id"], reason="why"))
            assert await overview(mem, doc["_id"]) is None
        with pytest.raises(NotFound):
            await run(mem, schooling.offer_place, c.OfferAccessPlace(
                actor=ADMIN, request_id=requests[0]["_id"], institution="Kita",
                starts=date(2026, 8, 1)))

    @pytest.mark.parametrize("who", [PARENT, CHILD, MATE])
    async def test_a_second_erasure_changes_nothing(self, mem, world, who):
        await erase(mem, who)
        after = mem.snapshot()
        uow = mem.unit_of_work("education")
        assert await erasure.erase(who, uow) == Erased()
        await uow.commit()
        assert mem.snapshot() == after

    @pytest.mark.parametrize("who", [PARENT, CHILD])
    async def test_the_others_in_the_course_are_untouched(self, mem, world, who):
        kept = {rid: docs_of(mem, rid) for rid in (MATE, OTHER, OTHER_KID)}
        views = {rid: await overview(mem, rid) for rid in kept}
        await erase(mem, who)
        assert {rid: docs_of(mem, rid) for rid in kept} == kept
        assert {rid: await overview(mem, rid) for rid in kept} == views

    async def test_the_parent_keeps_the_enrolment_when_the_child_goes(self, mem, world):
        await erase(mem, CHILD)
        enr = mem.collections[store.ENROLMENTS][world.cafe[PARENT]]
        assert enr["children"] == [] and enr["resident_id"] == PARENT
        (seat,) = [s for s in mem.collections[store.COURSES]["cafe"]["seats"]
                   if s["e"] == world.cafe[PARENT]]
        assert seat["r"] == PARENT and seat["k"] == []
        assert len(mem.collections[store.COURSES]["cafe"]["care"]) == 1  # still counted

    async def test_a_stand_in_moves_with_the_seat_rules_silently(self, mem, world):
        await erase(mem, PARENT)
        events = await withdraw(mem, world.a1[MATE])  # the stand-in waits first: promoted
        assert [type(e).__name__ for e in events] == ["EnrolmentWithdrawn"]
        view, _ = await run(mem, enrolment.get_enrolment, c.GetEnrolment(
            actor=ADMIN, enrolment_id=world.a1[OTHER]))
        assert (view.state, view.position) == ("waitlisted", 1)
        stats = (await figures(mem))[0]
        assert (stats["enrolled"], stats["waitlisted"]) == (3, 1)
        _, events = await run(mem, courses.cancel_course, c.CancelCourse(
            actor=VHS, course_id="cafe", reason="no room"))
        assert [(type(e).__name__, e.resident_id) for e in events if hasattr(e, "resident_id")] \
            == [("EnrolmentWithdrawn", MATE)]
        assert not any("anon-" in json.dumps(msgspec.to_builtins(e)) for e in events)


# retention ------------------------------------------------------------------------------

class Clock:
    def __init__(self) -> None:
        self.now = datetime(2026, 3, 2, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.now

    def at(self, day: date) -> None:
        self.now = datetime.combine(day, datetime.min.time(), UTC)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock()
    for module in (outcomes, attendance, schooling):
        monkeypatch.setattr(module, "utcnow", clock)
    return clock


@dataclass
class Past:
    completed: str  # ended 2026-06-26, in the old course (ended 2026-06-26)
    withdrawn: str  # ended 2026-04-01
    active: str     # seated in the new course (ends 2027-06-30)
    placed: str     # a school request concluded on 2026-05-01
    waiting: str    # an open one


@pytest.fixture
async def past(mem: MemoryStore, clock: Clock) -> Past:
    return await build_past(mem, clock)


async def build_past(mem: Any, clock: Clock) -> Past:
    for rid in ("ra", "rb", "rc", "re"):
        await housing_knows(mem, rid, 1990)
    for rid in ("kx", "ky"):
        await housing_knows(mem, rid, 2016)
    await course(mem, "old", capacity=5)
    await course(mem, "new", starts=date(2027, 1, 4), ends=date(2027, 6, 30))
    ra, rb, re = [await enrol(mem, r, "old") for r in ("ra", "rb", "re")]
    clock.at(date(2026, 4, 1))
    await withdraw(mem, rb)
    clock.at(date(2026, 6, 26))
    await complete(mem, ra)
    await complete(mem, re)
    await erase(mem, "re")  # its stand-in stays
    clock.at(date(2026, 5, 1))
    request = await placed(mem, "kx", None)
    waiting, _ = await run(mem, schooling.request_access, c.RequestAccess(
        actor=ADMIN, resident_id="ky", kind="school", district="List"))
    await run(mem, residents.on_resident_moved, wrap(ResidentMovedOut(
        resident_id="ra", household_id="h-ra", site_id="s1", reason="own_flat",
        moved_out=date(2026, 7, 1)), source="housing"))
    await referred(mem, "rz", "kita_school", at=datetime(2026, 3, 2, 12, tzinfo=UTC))
    return Past(ra, rb, await enrol(mem, "rc", "new"), request, str(waiting.request_id))


AFTER = datetime(2029, 7, 3, tzinfo=UTC)  # three years and two days after 2026-07-01
BEFORE = datetime(2029, 3, 1, tzinfo=UTC)  # less than three years after 2026-03-02 12:00
EXPIRED = {"ended_enrolments": 2, "concluded_access_requests": 1, "ended_courses": 1,
           "moved_out_residents": 1, "answered_referrals": 1}
NONE = dict.fromkeys(EXPIRED, 0)


retain = partial(run_committed, spec)


@pytest.mark.unit
class TestRetention:
    async def test_nothing_goes_before_its_time(self, mem, past):
        before = mem.snapshot()
        result = await retain(mem, BEFORE)
        assert expired_counts(result) == NONE
        assert mem.snapshot() == before

    async def test_records_past_their_period_go_and_the_rest_stay(self, mem, past):
        stand_ins = {(coll, id) for coll, docs in mem.collections.items()
                     for id, doc in docs.items() if doc.get("anonymised")}
        assert stand_ins
        result = await retain(mem, AFTER)
        assert expired_counts(result) == EXPIRED
        assert sorted(result["rules"]["ended_enrolments"]["ids"]) \
            == sorted([past.completed, past.withdrawn])
        left = {coll: set(docs) for coll, docs in mem.collections.items()}
        assert not {past.completed, past.withdrawn} & left[store.ENROLMENTS]
        assert past.active in left[store.ENROLMENTS]
        assert past.placed not in left[store.ACCESS] and past.waiting in left[store.ACCESS]
        assert left[store.COURSES] == {"new"}
        assert "ra" not in left[store.RESIDENTS] and "rc" in left[store.RESIDENTS]
        assert not left.get(store.REFERRALS)
        assert all(id in left[coll] for coll, id in stand_ins)
        assert "retention_applied" in mem.outbox[-1].subject

    async def test_a_dry_run_lists_without_removing(self, mem, past):
        before, outbox = mem.snapshot(), len(mem.outbox)
        result = await retain(mem, AFTER, dry_run=True)
        assert result["dry_run"] is True and expired_counts(result) == EXPIRED
        assert result["rules"]["concluded_access_requests"]["ids"] == [past.placed]
        assert mem.snapshot() == before and len(mem.outbox) == outbox

    async def test_the_city_sets_its_own_period(self, mem, past, monkeypatch):
        monkeypatch.setenv("IM_RETENTION_EDUCATION_ENDED_ENROLMENTS", "3650")
        result = await retain(mem, AFTER, dry_run=True)
        assert result["rules"]["ended_enrolments"]["days"] == 3650
        assert expired_counts(result)["ended_enrolments"] == 0


# on the MongoDB-wire server ---------------------------------------------------------------

@pytest.mark.integration
class TestOnTheWireServer:
    @pytest.fixture
    async def wire(self, settings: Any) -> Any:
        wire = MongoStore(settings.mongo_url, settings.db_prefix + "education")
        await wire.start(spec.indexes)
        yield wire
        await wire.close()

    async def test_an_erasure_leaves_no_trace_and_the_figures(self, wire):
        await build(wire)
        before = await figures(wire)
        for who in (PARENT, CHILD):
            await erase(wire, who)
        assert await stored_mentions(wire, (PARENT, CHILD)) == []
        assert await figures(wire) == before
        assert await overview(wire, PARENT) is None and await overview(wire, CHILD) is None

    async def test_retention_finds_the_same_records(self, wire, clock):
        await build_past(wire, clock)
        assert expired_counts(await retain(wire, BEFORE, dry_run=True)) == NONE
        assert expired_counts(await retain(wire, AFTER, dry_run=True)) == EXPIRED
        await retain(wire, AFTER)
        assert expired_counts(await retain(wire, AFTER, dry_run=True)) == NONE
        uow = wire.unit_of_work("education")
        assert await uow.count(store.ENROLMENTS, {"anonymised": True}) == 1


async def stored_mentions(mem: Any, terms: tuple[str, ...]) -> list[str]:
    """Documents naming a term in the service's own collections (the runtime's outbox
    holds events not yet relayed; the relay does not run here)."""
    uow = mem.unit_of_work("education")
    return [f"{coll}/{doc['_id']}" for coll in await uow.collections()
            if coll not in RUNTIME_COLLECTIONS
            for doc in await uow.find(coll) if mentioned(doc, terms)]
