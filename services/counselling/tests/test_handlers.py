"""Counselling's handlers against the in-memory store: the trust boundary, cases and
follow-ups, the referral lifecycle, visibility of health details, never a note."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contracts import Actor, EventData
from contracts import feedback as fb
from contracts import housing as hs
from contracts import operator as op
from contracts import referrals as rf
from contracts.counselling import (
    AnswerCityReferral,
    GetReferral,
    ListReferrals,
    ReferralOverdue,
    ReferralRequested,
)
from contracts.employment import EmploymentReferralAccepted
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from counselling import (
    answers,
    operators,
    overdue,
    projection,
    queries,
    referrals,
    topics,
    trail,
)
from counselling.boundary import SiteNotKnownYet
from im_runtime import Conflict, DomainError, Forbidden, Reject
from im_runtime.memory import MemoryStore

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
           hs.ResidentMovedOut: projection.on_resident_moved,
           rf.ReferralTopicsDeclared: topics.on_topics_declared,
           rf.ReferralAccepted: answers.on_answer, rf.ReferralRejected: answers.on_answer,
           rf.ReferralCompleted: answers.on_answer}


def rnd(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:8]}"


async def feed(store: MemoryStore, data: EventData, source: str,
               at: datetime | None = None) -> list[Any]:
    handler: Any = HANDLER.get(type(data), answers.on_service_answer)
    return await store.feed(handler, data, source, at)


async def ask(store: MemoryStore, query: Any) -> Any:
    name: dict[type, Any] = {GetResidentOverview: queries.resident_overview,
                             GetSiteOverview: queries.site_overview,
                             GetCityStats: queries.city_stats}
    return await store.ask(name[type(query)], query)


def session(rid: str, site: str, category: str = "social_law", **kw: Any) -> op.SessionRecorded:
    fields: dict[str, Any] = {"session_id": rnd("s"), "held_on": TODAY, "duration_minutes": 30,
                              "counsellor": "sw-1", **kw}
    return op.SessionRecorded(resident_id=rid, site_id=site, category=category, **fields)


@pytest.fixture
async def world() -> tuple[MemoryStore, str, str, str]:
    """A store that knows site S of operator A (resident R placed there) and site T of B."""
    store, a, b = MemoryStore("counselling"), rnd("op-a"), rnd("op-b")
    s, t, r = rnd("site"), rnd("site"), rnd("r")
    for site, owner in ((s, a), (t, b)):
        await feed(store, hs.SiteRegistered(site_id=site, kind="shelter", name="x",
                                            operator_id=owner, district="d", capacity=9),
                   "housing")
    await feed(store, hs.ResidentPlaced(resident_id=r, household_id="h", site_id=s,
                                        operator_id=a, moved_in=TODAY), "housing")
    return store, a, s, r


class TestTrustBoundary:
    async def test_a_site_of_another_operator_is_rejected_and_nothing_stored(self, world):
        store, _, s, r = world
        with pytest.raises(Reject, match="is not run by operator 'op-x'"):
            await feed(store, session(r, s), "op-x")
        assert await ask(store, GetResidentOverview(resident_id=r)) is None

    async def test_an_unknown_site_is_retried_not_rejected(self, world):
        store, a, _, r = world
        with pytest.raises(SiteNotKnownYet):
            await feed(store, session(r, "nowhere"), a)

    async def test_a_resident_living_at_another_operators_site_is_rejected(self, world):
        store, a, s, _ = world
        other, b_site = rnd("r"), rnd("site")
        await feed(store, hs.SiteRegistered(site_id=b_site, kind="shelter", name="y",
                                            operator_id="op-b", district="d", capacity=1),
                   "housing")
        await feed(store, hs.ResidentPlaced(resident_id=other, household_id="h2",
                                            site_id=b_site, operator_id="op-b",
                                            moved_in=TODAY), "housing")
        with pytest.raises(Reject, match="which operator"):
            await feed(store, session(other, s), a)


class TestCases:
    async def test_sessions_count_by_category_and_follow_ups_are_settled(self, world):
        store, a, s, r = world
        first = session(r, s, "asylum_law", held_on=TODAY - timedelta(days=7),
                        follow_up_on=TODAY + timedelta(days=7))
        await feed(store, first, a)
        await feed(store, first, a)  # the same session again: counted once
        await feed(store, session(r, s, "correspondence"), a)
        view = await ask(store, GetResidentOverview(resident_id=r))
        case = view["cases"][0]
        assert case["sessions_by_category"] == {"asylum_law": 1, "correspondence": 1}
        assert case["open_follow_ups"] == [{"category": "asylum_law",
                                            "due": (TODAY + timedelta(days=7)).isoformat()}]
        await feed(store, session(r, s, "asylum_law"), a)  # the follow-up session
        view = await ask(store, GetResidentOverview(resident_id=r))
        assert view["cases"][0]["open_follow_ups"] == []

    @pytest.mark.parametrize("how", ["moved_out", "transferred"])
    async def test_leaving_the_operators_shelter_closes_the_case(self, world, how):
        store, a, s, r = world
        await feed(store, session(r, s, follow_up_on=TODAY + timedelta(days=3)), a)
        later = datetime.now(UTC) + timedelta(minutes=1)
        if how == "moved_out":
            await feed(store, hs.ResidentMovedOut(resident_id=r, household_id="h", site_id=s,
                                                  operator_id=a, reason="own_flat",
                                                  moved_out=TODAY), "housing", at=later)
        else:
            await feed(store, hs.ResidentTransferred(
                resident_id=r, household_id="h", from_site_id=s, from_operator_id=a,
                site_id="t-elsewhere", operator_id="op-b", moved_on=TODAY), "housing", at=later)
        case = (await ask(store, GetResidentOverview(resident_id=r)))["cases"][0]
        assert case["open"] is False and case["open_follow_ups"] == []


class TestDataMinimisation:
    async def test_notes_never_appear_and_health_details_only_for_their_operator(self, world):
        store, a, s, r = world
        secret = f"note text {uuid.uuid4().hex}"
        emitted = await feed(store, op.CaseNoteRecorded(resident_id=r, site_id=s,
                                                        note_id=rnd("n"), written_on=TODAY,
                                                        text=secret), a)
        assert emitted == []
        await feed(store, session(r, s, "health", follow_up_on=TODAY), a)
        await feed(store, session(r, s, "social_law"), a)
        mine = Actor(subject="u", role="operator", operator=a)
        other = Actor(subject="v", role="operator", operator="op-other")
        for actor, health_shown in ((mine, True), (other, False), (ADMIN, False)):
            view = await ask(store, GetResidentOverview(resident_id=r, actor=actor))
            assert secret not in repr(view)
            assert view["cases"][0]["sessions_by_category"] == {"health": 1, "social_law": 1}
            cats = [x["category"] for x in view["sessions"]]
            assert ("health" in cats) is health_shown
            assert view["cases"][0]["restricted_follow_ups"] == (0 if health_shown else 1)
        assert secret not in repr(await ask(store, GetSiteOverview(site_id=s)))
        assert secret not in repr(await ask(store, GetCityStats()))


DECLARED = {"housing": ["housing_search"], "education": ["language_course", "kita_school"],
            "employment": ["work_qualification"], "volunteers": ["volunteers"],
            "counselling": ["authorities", "neighbourhood"]}


def answer(ref: str, r: str, a: str, topic: str, service: str) -> dict[str, Any]:
    return {"referral_id": ref, "resident_id": r, "operator_id": a, "topic": topic,
            "service": service}


async def refer(store: MemoryStore, a: str, s: str, r: str, topic: str,
                ref: str | None = None) -> tuple[str, list[Any]]:
    ref = ref or rnd("ref")
    out = await feed(store, op.OperatorReferralRequested(resident_id=r, site_id=s, referral_id=ref,
                                                 topic=topic, requested_on=TODAY), a)
    return ref, out


class TestReferrals:
    @pytest.fixture
    async def city(self, world):
        store = world[0]
        for service, declared in DECLARED.items():
            await feed(store, rf.ReferralTopicsDeclared(service=service, version="1.0.0",
                                                        topics=declared), service)
        return world

    async def test_a_session_referral_is_handed_on_and_follows_the_owners_answers(self, city):
        store, a, s, r = city
        out = await feed(store, session(r, s, referral="housing_search"), a)
        req = next(e for e in out if isinstance(e, ReferralRequested))
        assert req.topic == "housing_search" and req.operator_id == a
        assert any(isinstance(e, fb.ReferralReceivedFeedback) and e.owner == "housing" for e in out)
        about = answer(req.referral_id, r, a, "housing_search", "housing")
        out = await feed(store, rf.ReferralAccepted(**about, became="case",
                                                    reference="case-1"), "housing")
        assert [type(e) for e in out] == [fb.ReferralAcceptedFeedback]
        assert out[0].became == "case" and out[0].by == "housing"
        assert await feed(store, rf.ReferralAccepted(**about, became="case", reference="case-1"),
                          "housing") == []  # twice: no change
        out = await feed(store, rf.ReferralCompleted(**about, became="case", reference="case-1",
                                                     outcome="moved_out"), "housing")
        assert isinstance(out[0], fb.ReferralCompletedFeedback) and out[0].outcome == "moved_out"
        stats = await ask(store, GetCityStats())
        assert stats["referrals_by_topic"]["housing_search"]["completed"] >= 1

    async def test_an_answer_from_a_service_that_does_not_own_the_topic_is_dead_lettered(
            self, city):
        store, a, s, r = city
        ref, _ = await refer(store, a, s, r, "housing_search")
        before = store.snapshot()
        with pytest.raises(Reject, match=f"service 'employment' does not handle topic "
                                         f"'housing_search' of referral '{ref}' "
                                         f"\\(its owner is 'housing'\\)"):
            await feed(store, rf.ReferralAccepted(**answer(ref, r, a, "housing_search",
                                                           "employment"),
                                                  became="coaching_need", reference="n-1"),
                       "employment")
        with pytest.raises(Reject, match="names service 'housing' but its source is 'intruder'"):
            await feed(store, rf.ReferralRejected(**answer(ref, r, a, "housing_search",
                                                           "housing"), reason="x"), "intruder")
        with pytest.raises(Reject, match="no referral 'nope'"):
            await feed(store, rf.ReferralRejected(**answer("nope", r, a, "housing_search",
                                                           "housing"), reason="x"), "housing")
        assert store.snapshot() == before

    async def test_a_topic_nobody_handles_is_rejected_at_once(self, city):
        store, a, s, r = city
        _, out = await refer(store, a, s, r, "astrology")
        assert [type(e) for e in out] == [fb.ReferralRejectedFeedback]
        assert out[0].reason == "no service handles astrology" and out[0].by == "counselling"
        view = await ask(store, GetResidentOverview(resident_id=r))
        assert view["referrals"][0]["state"] == "rejected"

    async def test_a_plugins_declared_topic_is_handed_on_and_a_withdrawn_one_is_not(self, city):
        store, a, s, r = city
        await feed(store, rf.ReferralTopicsDeclared(service="sports", version="0.1.0",
                                                    topics=["sports_club"]), "sports")
        ref, out = await refer(store, a, s, r, "sports_club")
        assert any(isinstance(e, fb.ReferralReceivedFeedback) and e.owner == "sports" for e in out)
        out = await feed(store, rf.ReferralCompleted(**answer(ref, r, a, "sports_club", "sports"),
                                                     became="membership", reference="m-1",
                                                     outcome="joined"), "sports")
        assert isinstance(out[0], fb.ReferralCompletedFeedback) and out[0].became == "membership"
        # another service cannot take the topic over; the owner's later start withdraws it
        await feed(store, rf.ReferralTopicsDeclared(service="housing", version="1.0.0",
                                                    topics=["housing_search", "sports_club"]),
                   "housing")
        assert (await refer(store, a, s, r, "sports_club"))[1][-1].owner == "sports"
        await feed(store, rf.ReferralTopicsDeclared(service="sports", version="0.2.0",
                                                    topics=[]), "sports")
        _, out = await refer(store, a, s, r, "sports_club")
        assert out[0].reason == "no service handles sports_club"

    async def test_a_duplicate_referral_id_for_another_topic_is_dead_lettered(self, city):
        store, a, s, r = city
        ref, _ = await refer(store, a, s, r, "housing_search")
        before = store.snapshot()
        assert (await refer(store, a, s, r, "housing_search", ref))[1] == []  # sent again
        with pytest.raises(Reject, match=f"referral '{ref}' of operator '{a}' exists already "
                                         f"for another resident or topic"):
            await refer(store, a, s, r, "language_course", ref)
        assert store.snapshot() == before

    async def test_answers_of_the_per_service_types_of_before_are_still_taken(self, city):
        store, a, s, r = city
        ref, _ = await refer(store, a, s, r, "language_course")
        old = {"referral_id": ref, "resident_id": r, "operator_id": a, "topic": "language_course"}
        # Not the owner's answer: ignored, as before.
        assert await feed(store, EmploymentReferralAccepted(**old, reference="x"),
                          "employment") == []
        from contracts.education import EducationReferralRejected

        out = await feed(store, EducationReferralRejected(**old, reason="no course place"),
                         "education")
        assert isinstance(out[0], fb.ReferralRejectedFeedback)
        assert out[0].reason == "no course place"
        view = await ask(store, GetResidentOverview(resident_id=r))
        assert view["referrals"][0]["state"] == "rejected" and view["open_referrals"] == 0

    async def test_the_city_team_answers_its_own_referrals(self, city):
        store, a, s, r = city
        ref, _ = await refer(store, a, s, r, "authorities")
        assert (await ask(store, GetCityStats()))["city_team_open_referrals"] == 1
        view, events = await store.handle(referrals.answer_city_referral, AnswerCityReferral(
            actor=ADMIN, referral_id=ref, answer="accepted"))
        assert view.state == "accepted"
        assert [type(e) for e in events] == [fb.ReferralAcceptedFeedback]
        with pytest.raises(DomainError, match="length <= 500"):  # nothing stored
            await store.run(referrals.answer_city_referral, AnswerCityReferral(
                actor=ADMIN, referral_id=ref, answer="completed", outcome="x" * 501))
        with pytest.raises(Conflict, match="cannot become accepted"):
            await store.run(referrals.answer_city_referral,
                            AnswerCityReferral(actor=ADMIN, referral_id=ref, answer="accepted"))

    async def test_a_referral_waiting_too_long_is_flagged_once_and_counted(self, city):
        store, a, s, r = city
        waiting, _ = await refer(store, a, s, r, "housing_search")
        answered, _ = await refer(store, a, s, r, "language_course")
        await feed(store, rf.ReferralAccepted(**answer(answered, r, a, "language_course",
                                                       "education"),
                                              became="enrolment", reference="e-1"), "education")
        later = time.time() + 3 * 3600
        uow = store.unit_of_work("counselling")
        assert await overdue.flag(uow, 2.0, later) == 1
        (flagged,) = uow.events
        assert isinstance(flagged.data, ReferralOverdue)
        assert flagged.data.referral_id == waiting and flagged.data.owner == "housing"
        await uow.commit()
        assert await overdue.flag(store.unit_of_work("counselling"), 2.0, later) == 0
        assert (await ask(store, GetCityStats()))["overdue_referrals"] == 1
        view = await ask(store, GetResidentOverview(resident_id=r))
        assert [x["overdue"] for x in view["referrals"]].count(True) == 1

    async def test_the_worklist_and_a_referrals_trail(self, city):
        store, a, s, r = city
        first, _ = await refer(store, a, s, r, "authorities")
        second, _ = await refer(store, a, s, r, "housing_search")
        await store.run(referrals.answer_city_referral, AnswerCityReferral(
            actor=ADMIN, referral_id=first, answer="accepted", reference="appointment 3"))
        worker = Actor(subject="sw-1", role="social_worker", sites=(s,))
        page = await store.ask(trail.list_referrals, ListReferrals(actor=worker))
        assert [(x.referral_id, x.state, x.owner) for x in page.items] == [
            (first, "accepted", "city_team"), (second, "requested", "housing")]
        mine = await store.ask(trail.list_referrals, ListReferrals(actor=worker,
                                                                   owner="city_team"))
        assert [x.referral_id for x in mine.items] == [first] and mine.total == 1
        assert (await store.ask(trail.list_referrals, ListReferrals(
            actor=ADMIN, state="completed"))).total == 0
        got = await store.ask(trail.get_referral, GetReferral(actor=worker, referral_id=first))
        assert got.referral.state == "accepted" and got.reference == "appointment 3"
        assert [(x.state, x.by, x.reference) for x in got.trail] == [
            ("requested", a, None), ("accepted", "city_team", "appointment 3")]
        assert all(x.at is not None for x in got.trail)
        elsewhere = Actor(subject="sw-9", role="social_worker", sites=("other",))
        assert (await store.ask(trail.list_referrals, ListReferrals(actor=elsewhere))).total == 0
        for cmd in (GetReferral(actor=elsewhere, referral_id=first),
                    ListReferrals(actor=elsewhere, site_id=s)):
            with pytest.raises(Forbidden):
                await store.ask(trail.get_referral if isinstance(cmd, GetReferral)
                                else trail.list_referrals, cmd)
        provider = Actor(subject="p", role="provider", provider="vhs")
        with pytest.raises(Forbidden):
            await store.ask(trail.list_referrals, ListReferrals(actor=provider))

    def test_the_answer_time_is_read_from_the_environment(self):
        assert overdue.answer_hours({}) == 14 * 24
        assert overdue.answer_hours({"IM_REFERRAL_ANSWER_HOURS": "0.5"}) == 0.5
        for bad in ("soon", "0", "-3", "99999"):
            with pytest.raises(ValueError, match="IM_REFERRAL_ANSWER_HOURS"):
                overdue.answer_hours({"IM_REFERRAL_ANSWER_HOURS": bad})


async def test_site_overview_counts_this_months_sessions_and_incidents(world):
    store, a, s, _ = world
    r2 = rnd("r")
    await feed(store, session(r2, s, "children_youth"), a)
    await feed(store, session(r2, s, "children_youth", held_on=TODAY - timedelta(days=70)), a)
    inc = op.IncidentRecorded(incident_id=rnd("i"), site_id=s, occurred_on=TODAY,
                              severity="high", people_involved=4)
    await feed(store, inc, a)
    await feed(store, op.IncidentRecorded(incident_id=inc.incident_id, site_id=s,
                                          occurred_on=TODAY, severity="high",
                                          people_involved=4, resolved=True), a)
    view = await ask(store, GetSiteOverview(site_id=s))
    assert view["sessions_this_month"] == {"children_youth": 1}
    assert view["incidents"] == {"total": 1, "this_month": 1, "unresolved": 0,
                                 "by_severity": {"high": 1}}
