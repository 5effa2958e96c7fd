"""Volunteers' handlers against the in-memory store: matching referrals by district and
language, capacity, the match's way to ended, the housing projection, the queries."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from contracts import Actor
from contracts import referrals as rf
from contracts.counselling import ReferralRequested
from contracts.housing import (
    ResidentMovedOut,
    ResidentPlaced,
    ResidentRegistered,
    ResidentTransferred,
    SiteRegistered,
)
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from im_runtime import Conflict, Forbidden
from im_runtime.memory import MemoryStore
from volunteers import commands, projection, queries, referrals
from volunteers import contracts as c

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")
ON = date(2026, 3, 2)
CHECKED = date.today() - timedelta(days=30)


def t(seconds: int) -> datetime:
    return datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=seconds)


feed, run = MemoryStore.feed, MemoryStore.handle


async def refuse(store: MemoryStore, handler: Any, cmd: Any, exc: type[Exception]) -> Any:
    before = msgspec.json.encode(store.collections)
    with pytest.raises(exc) as err:
        await store.run(handler, cmd)
    assert msgspec.json.encode(store.collections) == before
    return err.value


async def resident(store: MemoryStore, rid: str, site: str = "s1",
                   languages: tuple[str, ...] = ("ar", "de")) -> None:
    await feed(store, projection.on_resident, ResidentRegistered(
        resident_id=rid, household_id=f"h-{rid}", birth_year=1990, languages=list(languages),
        residence_status="recognised_refugee", arrival_date=ON), "housing", t(1))
    await feed(store, projection.on_resident, ResidentPlaced(
        resident_id=rid, household_id=f"h-{rid}", site_id=site, moved_in=ON), "housing", t(2))


def volunteer(vid: str = "v1", **kw: Any) -> c.RegisterVolunteer:
    return c.RegisterVolunteer(**{
        "actor": ADMIN, "volunteer_id": vid, "name": "Hanna", "languages": ["ar", "en"],
        "districts": ["List"], "offers": ["accompaniment", "language_tandem"], "capacity": 1,
        "background_check_on": CHECKED, "availability": ["tue"], **kw})


def referral(rid: str, topic: str = "volunteers") -> ReferralRequested:
    return ReferralRequested(referral_id=f"ref-{rid}", resident_id=rid, operator_id="op1",
                             site_id="s1", topic=topic, requested_on=ON)  # type: ignore[arg-type]


@pytest.fixture
async def world(store: MemoryStore) -> MemoryStore:
    await feed(store, projection.on_site_registered, SiteRegistered(
        site_id="s1", kind="shelter", name="Oststadt", district="List", capacity=100),
        "housing", t(0))
    for rid in ("r1", "r2"):
        await resident(store, rid)
    return store


class TestReferrals:
    async def test_a_fitting_volunteer_gets_a_proposed_match_once(self, world):
        await run(world, commands.register_volunteer, volunteer())
        events = await feed(world, referrals.on_referral_requested, referral("r1"), "counselling")
        assert [type(e) for e in events] == [c.MatchProposed, rf.ReferralAccepted]
        proposed, accepted = events
        assert (proposed.volunteer_id, proposed.offer) == ("v1", "language_tandem")
        assert accepted.reference == proposed.match_id
        assert await feed(world, referrals.on_referral_requested, referral("r1"),
                          "counselling") == []
        assert world.collections["volunteers"]["v1"]["load"] == 1

    async def test_no_fit_opens_a_request_that_a_new_volunteer_takes(self, world):
        events = await feed(world, referrals.on_referral_requested, referral("r1"), "counselling")
        # no answer yet: the referral waits until a tandem is proposed
        assert [type(e) for e in events] == [c.SupportRequested]
        _, events = await run(world, commands.register_volunteer, volunteer())
        assert [type(e) for e in events] == [c.VolunteerRegistered, c.MatchProposed,
                                             rf.ReferralAccepted]
        (request,) = world.collections["requests"].values()
        assert not request["open"] and request["match_id"] == events[1].match_id
        assert (events[2].became, events[2].reference) == ("tandem", events[1].match_id)
        assert (events[2].service, events[2].operator_id) == ("volunteers", "op1")

    @pytest.mark.parametrize("kw", [{"districts": ["Linden"]}, {"languages": ["fa"]},
                                    {"background_check_on": None}, {"capacity": 0},
                                    {"background_check_on": date(2015, 1, 1)}])
    async def test_who_does_not_fit(self, world, kw):
        await run(world, commands.register_volunteer, volunteer(**kw))
        events = await feed(world, referrals.on_referral_requested, referral("r1"), "counselling")
        assert type(events[0]) is c.SupportRequested

    async def test_capacity_and_other_topics(self, world):
        await run(world, commands.register_volunteer, volunteer())
        await feed(world, referrals.on_referral_requested, referral("r1"), "counselling")
        events = await feed(world, referrals.on_referral_requested, referral("r2"), "counselling")
        assert type(events[0]) is c.SupportRequested
        assert await feed(world, referrals.on_referral_requested,
                          referral("r2", topic="housing_search"), "counselling") == []


class TestMatches:
    async def test_proposed_agreed_active_ended_frees_the_place(self, world):
        await run(world, commands.register_volunteer, volunteer())
        await feed(world, referrals.on_referral_requested, referral("r1"), "counselling")
        await feed(world, referrals.on_referral_requested, referral("r2"), "counselling")
        (mid,) = world.collections["matches"]
        for handler, cmd, state in ((commands.agree_match, c.AgreeMatch, "agreed"),
                                    (commands.start_match, c.StartMatch, "active")):
            view, started = await run(world, handler, cmd(actor=ADMIN, match_id=mid))
            assert view.state == state
        # the tandem started: its referral is completed
        assert [type(e) for e in started] == [c.MatchStarted, rf.ReferralCompleted]
        assert (started[1].referral_id, started[1].outcome) == ("ref-r1", "started")
        await refuse(world, commands.agree_match, c.AgreeMatch(actor=ADMIN, match_id=mid),
                     Conflict)
        view, events = await run(world, commands.end_match, c.EndMatch(
            actor=ADMIN, match_id=mid, outcome="completed", rating=5, feedback="gut"))
        assert (view.state, view.rating) == ("ended", 5)
        assert [type(e) for e in events] == [c.MatchEnded, c.MatchProposed, rf.ReferralAccepted]
        assert events[1].resident_id == "r2"  # the freed place goes to the open request
        assert "feedback" not in msgspec.structs.asdict(events[0])

    async def test_by_hand_checks_offer_capacity_and_role(self, world):
        await run(world, commands.register_volunteer, volunteer())
        await refuse(world, commands.propose_match, c.ProposeMatch(
            actor=ADMIN, volunteer_id="v1", resident_id="r1", offer="moving_help"), Conflict)
        await refuse(world, commands.propose_match, c.ProposeMatch(
            actor=Actor(subject="p", role="provider"), volunteer_id="v1", resident_id="r1",
            offer="accompaniment"), Forbidden)
        view, _ = await run(world, commands.propose_match, c.ProposeMatch(
            actor=ADMIN, volunteer_id="v1", resident_id="r1", offer="accompaniment"))
        assert view.state == "proposed"
        err = await refuse(world, commands.propose_match, c.ProposeMatch(
            actor=ADMIN, volunteer_id="v1", resident_id="r2", offer="accompaniment"), Conflict)
        assert err.details["rule"] == "capacity"
        await refuse(world, commands.register_volunteer, volunteer(), Conflict)
        got, _ = await run(world, commands.get_volunteer, c.GetVolunteer(actor=ADMIN,
                                                                         volunteer_id="v1"))
        assert (got.load, got.matches, got.background_check_on) == (1, [view.match_id], CHECKED)


    async def test_listing_volunteers_by_offer_district_and_free_place(self, world):
        await run(world, commands.register_volunteer, volunteer())
        await run(world, commands.register_volunteer, volunteer(
            "v2", name="Aylin", districts=["Linden"], offers=["homework_help"], capacity=2))
        await run(world, commands.propose_match, c.ProposeMatch(
            actor=ADMIN, volunteer_id="v1", resident_id="r1", offer="accompaniment"))
        ask = world.ask
        everyone = await ask(commands.list_volunteers, c.ListVolunteers(actor=ADMIN))
        assert [(v.name, v.load) for v in everyone.items] == [("Aylin", 0), ("Hanna", 1)]
        for kw, names in (({"offer": "homework_help"}, ["Aylin"]),
                          ({"district": "List"}, ["Hanna"]), ({"free_only": True}, ["Aylin"]),
                          ({"limit": 1, "offset": 1}, ["Hanna"])):
            got = await ask(commands.list_volunteers, c.ListVolunteers(actor=ADMIN, **kw))
            assert [v.name for v in got.items] == names, kw
        for role in ("provider", "operator"):
            with pytest.raises(Forbidden):
                await ask(commands.list_volunteers, c.ListVolunteers(
                    actor=Actor(subject="x", role=role)))


class TestProjectionAndQueries:
    async def test_housing_facts_out_of_order_and_twice(self):
        placed = ResidentPlaced(resident_id="r1", household_id="h", site_id="a", moved_in=ON)
        moved = ResidentTransferred(resident_id="r1", household_id="h", from_site_id="a",
                                    site_id="b", moved_on=ON)
        registered = ResidentRegistered(resident_id="r1", household_id="h", birth_year=1990,
                                        languages=["uk", "ru"], arrival_date=ON,
                                        residence_status="tolerated")
        ends = []
        for order in itertools.permutations([(registered, t(1)), (placed, t(2)),
                                             (moved, t(3))]):
            store = MemoryStore("volunteers")
            for data, at in (*order, *order):
                await feed(store, projection.on_resident, data, "housing", at)
            ends.append({k: v for k, v in store.collections["residents"]["r1"].items()
                         if k != "_v"})
        assert all(e == ends[0] for e in ends)
        assert (ends[0]["site_id"], ends[0]["languages"]) == ("b", ["ru", "uk"])
        await feed(store, projection.on_resident, ResidentMovedOut(
            resident_id="r1", household_id="h", site_id="b", reason="own_flat",
            moved_out=ON), "housing", t(4))
        assert store.collections["residents"]["r1"]["site_id"] is None

    async def test_sections(self, world):
        assert await world.ask(queries.resident_overview,
                               GetResidentOverview(resident_id="r1")) is None
        await run(world, commands.register_volunteer, volunteer())
        await feed(world, referrals.on_referral_requested, referral("r1"), "counselling")
        await feed(world, referrals.on_referral_requested, referral("r2"), "counselling")
        uow = world.unit_of_work("v")
        r1 = await queries.resident_overview(GetResidentOverview(resident_id="r1"), uow)
        assert [m["state"] for m in r1["matches"]] == ["proposed"]
        r2 = await queries.resident_overview(GetResidentOverview(resident_id="r2"), uow)
        assert len(r2["open_requests"]) == 1 and r2["matches"] == []
        site = await queries.site_overview(GetSiteOverview(site_id="s1"), uow)
        assert site == {"district": "List", "matches_by_state": {"proposed": 1},
                        "residents_supported": 1, "open_requests": 1,
                        "volunteers_in_district": 1}
        city = await queries.city_stats(GetCityStats(), uow)
        assert (city["volunteers"], city["free_capacity"], city["open_requests"]) == (1, 0, 1)
