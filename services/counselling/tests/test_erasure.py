"""Erasing a resident from counselling and its retention rules, against the in-memory
store: state is built through the handlers, the erasure leaves no trace of the resident
but the same figures, and retention runs from the day the operator's case closed."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import msgspec
import pytest

from contracts import Actor, EventData
from contracts import housing as hs
from contracts import operator as op
from contracts.counselling import AnswerCityReferral
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from contracts.referrals import ReferralTopicsDeclared
from counselling import answers, operators, projection, queries, referrals, store
from counselling.plugin import spec
from counselling.topics import on_topics_declared
from im_runtime.memory import MemoryStore
from im_runtime.privacy import erase_committed
from im_runtime.retention import expired_counts, run_committed
from im_runtime.spec import Erased

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")
TODAY = date.today()
HANDLER = {op.SessionRecorded: operators.on_session_recorded,
           op.CaseNoteRecorded: operators.on_case_note_recorded,
           op.IncidentRecorded: operators.on_incident_recorded,
           op.OperatorReferralRequested: operators.on_referral_requested,
           hs.SiteRegistered: projection.on_site_registered,
           hs.ResidentPlaced: projection.on_resident_moved,
           hs.ResidentTransferred: projection.on_resident_moved,
           hs.ResidentMovedOut: projection.on_resident_moved}
A, B, S, T = "op-a", "op-b", "site-s", "site-t"


def rnd(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


def later(seconds: int = 0) -> datetime:
    """Housing's facts in the order a test gives them (later facts win)."""
    return datetime.now(UTC) + timedelta(seconds=seconds)


async def feed(mem: MemoryStore, data: EventData, source: str,
               at: datetime | None = None) -> list[Any]:
    handler: Any = HANDLER.get(type(data), answers.on_service_answer)
    return await mem.feed(handler, data, source, at)


async def ask(mem: MemoryStore, query: Any) -> Any:
    handler: dict[type, Any] = {GetResidentOverview: queries.resident_overview,
                                GetSiteOverview: queries.site_overview,
                                GetCityStats: queries.city_stats}
    return await mem.ask(handler[type(query)], query)


erase = partial(erase_committed, spec)
retain = partial(run_committed, spec)


def session(rid: str, site: str, category: str = "social_law", **kw: Any) -> op.SessionRecorded:
    return op.SessionRecorded(resident_id=rid, site_id=site, category=category,  # type: ignore[arg-type]
                              session_id=rnd("s"), held_on=kw.pop("held_on", TODAY),
                              duration_minutes=30, counsellor="sw-1", **kw)


def note(rid: str, site: str) -> op.CaseNoteRecorded:
    return op.CaseNoteRecorded(resident_id=rid, site_id=site, note_id=rnd("n"),
                               written_on=TODAY, text=f"{rid} asked about the Jobcenter")


async def sites(mem: MemoryStore) -> None:
    for service, topics in (("housing", ["housing_search"]), ("education", ["language_course"]),
                            ("counselling", ["authorities"])):
        await mem.feed(on_topics_declared, ReferralTopicsDeclared(
            service=service, version="1", topics=topics), service)
    for site, owner in ((S, A), (T, B)):
        await feed(mem, hs.SiteRegistered(site_id=site, kind="shelter", name="x",
                                          operator_id=owner, district="d", capacity=9),
                   "housing")


async def placed(mem: MemoryStore, rid: str, site: str, owner: str, at: datetime) -> None:
    await feed(mem, hs.ResidentPlaced(resident_id=rid, household_id=f"h-{rid}", site_id=site,
                                      operator_id=owner, moved_in=TODAY), "housing", at)


async def referral(mem: MemoryStore, rid: str, topic: str) -> str:
    ref = rnd("ref")
    await feed(mem, op.OperatorReferralRequested(resident_id=rid, site_id=S, referral_id=ref,
                                         topic=topic, requested_on=TODAY), A)  # type: ignore[arg-type]
    return ref


@pytest.fixture
async def world() -> tuple[MemoryStore, str, str]:
    """Resident `me` in every collection: a closed case with operator B (moved on to A's
    site), an open case with A, sessions with an interpreter and on health, a note, an
    answered and a rejected referral; `other` lives at A's site too; an incident there."""
    mem, me, other = MemoryStore("counselling"), rnd("r"), rnd("r")
    await sites(mem)
    await placed(mem, me, T, B, later())
    await feed(mem, session(me, T, "asylum_law"), B)
    await feed(mem, hs.ResidentTransferred(
        resident_id=me, household_id=f"h-{me}", from_site_id=T, from_operator_id=B,
        site_id=S, operator_id=A, moved_on=TODAY), "housing", later(1))
    await placed(mem, other, S, A, later(2))
    await feed(mem, session(me, S, interpreter=True, referral="housing_search"), A)
    await feed(mem, session(me, S, "health", follow_up_on=TODAY + timedelta(days=7)), A)
    await feed(mem, note(me, S), A)
    answer = {"referral_id": await referral(mem, me, "language_course"), "resident_id": me,
              "operator_id": A, "topic": "language_course"}
    from contracts.education import EducationReferralAccepted

    await feed(mem, EducationReferralAccepted(**answer, reference=f"enrol-{me}"), "education")
    await mem.run(referrals.answer_city_referral, AnswerCityReferral(
        actor=ADMIN, referral_id=await referral(mem, me, "authorities"), answer="rejected",
        reason=f"{me} has an appointment already"))
    await feed(mem, session(other, S, "correspondence"), A)
    await feed(mem, note(other, S), A)
    await referral(mem, other, "authorities")
    await feed(mem, op.IncidentRecorded(incident_id=rnd("i"), site_id=S, occurred_on=TODAY,
                                        severity="low", people_involved=2), A)
    return mem, me, other




async def figures(mem: MemoryStore) -> tuple[Any, ...]:
    return (await ask(mem, GetCityStats()), await ask(mem, GetSiteOverview(site_id=S)),
            await ask(mem, GetSiteOverview(site_id=T)))


class TestErasure:
    async def test_nothing_of_the_resident_is_left(self, world):
        mem, me, _ = world
        assert mem.mentions(me)
        done = await erase(mem, me)
        assert mem.mentions(me) == []
        assert mem.mentions("Jobcenter")  # the other resident's note
        assert done.anonymised == {"sessions": 3, "cases": 2, "referrals": 3}
        assert done.removed == {"notes": 1, "residents": 1}

    async def test_stand_ins_hold_only_what_the_statistics_need(self, world):
        mem, me, _ = world
        await erase(mem, me)
        stand_ins = [d for docs in mem.collections.values() for d in docs.values()
                     if d.get("anonymised")]
        assert len(stand_ins) == 8
        for doc in stand_ins:
            assert doc["_id"].startswith("anon-")
            assert not {"resident_id", "operator_id", "counsellor", "session_id", "text",
                        "referral_id", "reason", "reference", "follow_ups"} & set(doc)
            assert all(doc[k].endswith("-01") for k in ("held_on", "closed_on", "requested_on")
                       if doc.get(k))

    async def test_the_figures_stay_the_same(self, world):
        mem, me, _ = world
        before = await figures(mem)
        assert before[0]["open_cases"] == 2 and before[2]["open_cases"] == 0
        await erase(mem, me)
        assert await figures(mem) == before

    async def test_the_resident_view_no_longer_shows_them(self, world):
        mem, me, _ = world
        assert await ask(mem, GetResidentOverview(resident_id=me))
        await erase(mem, me)
        assert await ask(mem, GetResidentOverview(resident_id=me)) is None

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
        view = await ask(mem, GetResidentOverview(resident_id=other))
        assert view["open_referrals"] == 1 and len(view["sessions"]) == 1


class TestRetention:
    @pytest.fixture
    async def dated(self) -> tuple[MemoryStore, datetime, str, str]:
        """`goes` moved out of A's shelter today (a note came in late); `stays` lives there."""
        now = datetime.now(UTC)
        mem, goes, stays = MemoryStore("counselling"), rnd("r"), rnd("r")
        await sites(mem)
        for rid in (goes, stays):
            await placed(mem, rid, S, A, now - timedelta(days=30))
            await feed(mem, session(rid, S, referral="authorities"), A)
            await feed(mem, note(rid, S), A)
        await feed(mem, hs.ResidentMovedOut(resident_id=goes, household_id=f"h-{goes}",
                                            site_id=S, operator_id=A, reason="own_flat",
                                            moved_out=TODAY), "housing", now)
        await feed(mem, note(goes, S), A)
        return mem, now, goes, stays

    async def test_nothing_is_due_within_three_years_of_the_case_closing(self, dated):
        mem, now, _, _ = dated
        out = await retain(mem, now + timedelta(days=1094), dry_run=False)
        assert set(expired_counts(out).values()) == {0}

    async def test_a_dry_run_lists_without_removing(self, dated):
        mem, now, goes, _ = dated
        before = msgspec.json.encode(mem.collections)
        out = await retain(mem, now + timedelta(days=1096), dry_run=True)
        assert expired_counts(out) == {"cases": 1, "sessions": 1, "notes": 2, "referrals": 1,
                                     "residents": 1}
        assert out["rules"]["cases"]["ids"] == [store.key(A, goes)]
        assert msgspec.json.encode(mem.collections) == before

    async def test_records_past_their_period_are_removed_the_rest_stay(self, dated):
        mem, now, goes, stays = dated
        kept = mem.about(stays)
        await retain(mem, now + timedelta(days=1096), dry_run=False)
        assert mem.mentions(goes) == []
        assert mem.about(stays) == kept

    async def test_a_return_stops_the_clock(self, dated):
        mem, now, goes, _ = dated
        await placed(mem, goes, S, A, now + timedelta(days=1))
        out = await retain(mem, now + timedelta(days=1096), dry_run=True)
        assert set(expired_counts(out).values()) == {0}
        view = await ask(mem, GetResidentOverview(resident_id=goes))
        assert view["cases"][0]["open"] is True
