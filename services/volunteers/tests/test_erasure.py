"""Erasing a resident from volunteers and its retention rules, against the in-memory
store: state is built through the handlers, the erasure leaves no trace of the resident
while the volunteer, their capacity and the figures stay, and retention removes what is
past its period."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import msgspec
import pytest

from contracts import Actor
from contracts.counselling import ReferralRequested
from contracts.housing import ResidentMovedOut, ResidentPlaced, ResidentRegistered, SiteRegistered
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from im_runtime import Conflict, Forbidden, NotFound
from im_runtime.memory import MemoryStore
from im_runtime.privacy import erase_committed
from im_runtime.retention import expired_counts, run_committed
from im_runtime.spec import Erased
from volunteers import commands, leaving, projection, queries, referrals, store
from volunteers import contracts as c
from volunteers.plugin import spec

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")
TODAY = date.today()
CHECKED = TODAY - timedelta(days=30)


def rnd(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


feed, run, ask = MemoryStore.feed, MemoryStore.run, MemoryStore.ask
erase = partial(erase_committed, spec)
retain = partial(run_committed, spec)


async def resident(mem: MemoryStore, rid: str) -> None:
    at = datetime.now(UTC) - timedelta(days=1)
    await feed(mem, projection.on_resident, ResidentRegistered(
        resident_id=rid, household_id=f"h-{rid}", birth_year=1990, languages=["ar", "de"],
        residence_status="recognised_refugee", arrival_date=TODAY), "housing", at)
    await feed(mem, projection.on_resident, ResidentPlaced(
        resident_id=rid, household_id=f"h-{rid}", site_id="s1", moved_in=TODAY), "housing",
        at + timedelta(seconds=1))


async def volunteer(mem: MemoryStore, vid: str, name: str, capacity: int,
                    languages: list[str]) -> None:
    await run(mem, commands.register_volunteer, c.RegisterVolunteer(
        actor=ADMIN, volunteer_id=vid, name=name, languages=languages, districts=["List"],
        offers=["accompaniment", "language_tandem"], capacity=capacity,
        background_check_on=CHECKED))


async def refer(mem: MemoryStore, rid: str) -> Any:
    """Counselling's referral: a proposed match (the event) or an open request."""
    events = await feed(mem, referrals.on_referral_requested, ReferralRequested(
        referral_id=f"ref-{rid}-{uuid.uuid4().hex[:6]}", resident_id=rid, operator_id="op1",
        site_id="s1", topic="volunteers", requested_on=TODAY), "counselling")
    return events[0]


async def advance(mem: MemoryStore, match_id: str) -> None:
    await run(mem, commands.agree_match, c.AgreeMatch(actor=ADMIN, match_id=match_id))
    await run(mem, commands.start_match, c.StartMatch(actor=ADMIN, match_id=match_id))


async def end(mem: MemoryStore, match_id: str, feedback: str | None = None) -> Any:
    return await run(mem, commands.end_match, c.EndMatch(
        actor=ADMIN, match_id=match_id, outcome="completed", rating=4, feedback=feedback))


@pytest.fixture
async def world() -> tuple[MemoryStore, str, str]:
    """Resident `me`: an active match with Hanna, an ended one (with feedback) with Jonas,
    an open request; `other` at the same site is matched with Hanna."""
    mem, me, other = MemoryStore("volunteers"), rnd("r"), rnd("r")
    await feed(mem, projection.on_site_registered, SiteRegistered(
        site_id="s1", kind="shelter", name="Oststadt", district="List", capacity=100),
        "housing")
    for rid in (me, other):
        await resident(mem, rid)
    await volunteer(mem, "v1", "Hanna", capacity=2, languages=["ar"])
    await volunteer(mem, "v2", "Jonas", capacity=1, languages=["fr"])
    await advance(mem, (await refer(mem, me)).match_id)
    await refer(mem, other)
    assert isinstance(await refer(mem, me), c.SupportRequested)  # Hanna is full
    by_hand = await run(mem, commands.propose_match, c.ProposeMatch(
        actor=ADMIN, volunteer_id="v2", resident_id=me, offer="accompaniment"))
    await end(mem, by_hand.match_id, feedback=f"{me} now takes the bus alone")
    return mem, me, other




async def figures(mem: MemoryStore) -> tuple[Any, Any]:
    return (await ask(mem, queries.city_stats, GetCityStats()),
            await ask(mem, queries.site_overview, GetSiteOverview(site_id="s1")))


def stand_in(mem: MemoryStore, state: str) -> dict[str, Any]:
    (doc,) = [m for m in mem.collections[store.MATCHES].values()
              if m.get("anonymised") and m["state"] == state]
    return doc


class TestErasure:
    async def test_nothing_of_the_resident_is_left_but_the_volunteers_stay(self, world):
        mem, me, _ = world
        assert mem.mentions(me)
        done = await erase(mem, me)
        assert mem.mentions([me, "bus alone"]) == []
        assert {"Hanna", "Jonas"} <= {v["name"] for v in mem.collections["volunteers"].values()}
        assert done.anonymised == {"matches": 2, "requests": 1, "residents": 1}
        assert done.removed == {"requests": 1}

    async def test_stand_ins_hold_only_what_the_statistics_need(self, world):
        mem, me, _ = world
        await erase(mem, me)
        stand_ins = [d for docs in mem.collections.values() for d in docs.values()
                     if d.get("anonymised")]
        assert len(stand_ins) == 4
        for doc in stand_ins:
            assert doc["_id"].startswith("anon-")
            assert not {"feedback", "rating", "outcome", "referral_id", "request_id",
                        "operator_id", "languages"} & set(doc)

    async def test_the_figures_and_the_volunteers_load_stay_the_same(self, world):
        mem, me, _ = world
        before = await figures(mem)
        loads = {k: v["load"] for k, v in mem.collections["volunteers"].items()}
        assert before[1]["residents_supported"] == 2 and before[1]["open_requests"] == 1
        await erase(mem, me)
        assert await figures(mem) == before
        assert {k: v["load"] for k, v in mem.collections["volunteers"].items()} == loads

    async def test_the_resident_view_no_longer_shows_them(self, world):
        mem, me, _ = world
        assert await ask(mem, queries.resident_overview, GetResidentOverview(resident_id=me))
        await erase(mem, me)
        assert await ask(mem, queries.resident_overview,
                         GetResidentOverview(resident_id=me)) is None

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

    async def test_the_anonymous_match_ends_and_frees_the_place_for_a_real_request(self, world):
        mem, me, _ = world
        await erase(mem, me)
        active = stand_in(mem, "active")
        got = await run(mem, commands.get_volunteer, c.GetVolunteer(actor=ADMIN,
                                                                    volunteer_id="v1"))
        assert active["_id"] in got.matches and got.load == 2
        with pytest.raises(Conflict, match="anonymised"):
            await run(mem, commands.agree_match, c.AgreeMatch(actor=ADMIN,
                                                              match_id=active["_id"]))
        waiting = rnd("r")
        await resident(mem, waiting)
        await refer(mem, waiting)
        await end(mem, active["_id"], feedback="should not be kept")
        ended = mem.collections[store.MATCHES][active["_id"]]
        assert ended["state"] == "ended" and ended["feedback"] is None
        (taken,) = [m for m in mem.collections[store.MATCHES].values()
                    if m["resident_id"] == waiting]
        assert taken["volunteer_id"] == "v1"  # not the anonymous request, the real one
        assert mem.collections["volunteers"]["v1"]["load"] == 2
        assert (await figures(mem))[0]["open_requests"] == 1


class TestRetention:
    @pytest.fixture
    async def dated(self) -> tuple[MemoryStore, datetime, dict[str, str]]:
        """Today: one match ended, one active, a request met and one open, and a resident
        who left the city."""
        now = datetime.now(UTC)
        mem, stays, goes = MemoryStore("volunteers"), rnd("r"), rnd("r")
        await feed(mem, projection.on_site_registered, SiteRegistered(
            site_id="s1", kind="shelter", name="Oststadt", district="List", capacity=100),
            "housing")
        for rid in (stays, goes):
            await resident(mem, rid)
        await volunteer(mem, "v1", "Hanna", capacity=1, languages=["ar"])
        ended = (await refer(mem, goes)).match_id
        await end(mem, ended)
        active = (await refer(mem, stays)).match_id
        await refer(mem, goes)  # open: Hanna is full
        await feed(mem, projection.on_resident, ResidentMovedOut(
            resident_id=goes, household_id=f"h-{goes}", site_id="s1",
            reason="departed", moved_out=TODAY), "housing", now)
        return mem, now, {"ended": ended, "active": active, "stays": stays, "goes": goes}

    async def test_nothing_is_due_within_a_year(self, dated):
        mem, now, _ = dated
        out = await retain(mem, now + timedelta(days=364), dry_run=False)
        assert expired_counts(out) == {"matches": 0, "requests": 0, "residents": 0,
                                       "former_volunteers": 0}

    async def test_a_dry_run_lists_without_removing(self, dated):
        mem, now, ids = dated
        before = msgspec.json.encode(mem.collections)
        out = await retain(mem, now + timedelta(days=366), dry_run=True)
        assert expired_counts(out) == {"matches": 1, "requests": 3, "residents": 1,
                                       "former_volunteers": 0}
        assert out["rules"]["matches"]["ids"] == [ids["ended"]]
        assert out["rules"]["residents"]["ids"] == [ids["goes"]]
        assert msgspec.json.encode(mem.collections) == before

    async def test_records_past_their_period_are_removed_the_rest_stay(self, dated):
        mem, now, ids = dated
        await retain(mem, now + timedelta(days=366), dry_run=False)
        assert set(mem.collections[store.MATCHES]) == {ids["active"]}
        assert set(mem.collections[store.RESIDENTS]) == {ids["stays"]}
        assert mem.collections[store.REQUESTS] == {}
        assert mem.collections["volunteers"]["v1"]["load"] == 1


class TestVolunteers:
    """A volunteer is erased (or leaves and expires) like a resident."""

    async def test_an_erased_volunteer_leaves_the_residents_their_tandems(self, world):
        mem, me, _ = world
        done = await erase(mem, "v2")  # Jonas: one ended tandem with `me`
        assert done.removed == {"volunteers": 1}
        assert done.anonymised == {"matches": 1}
        assert "v2" not in mem.collections["volunteers"]
        assert mem.mentions("v2") == [] and mem.mentions("Jonas") == []
        (theirs,) = [m for m in mem.collections[store.MATCHES].values()
                     if m["resident_id"] == me and m["offer"] == "accompaniment"]
        assert theirs["volunteer_id"].startswith("anon-") and theirs["feedback"] is None
        assert theirs["state"] == "ended" and theirs["rating"] == 4

    async def test_an_open_tandem_ends_when_its_volunteer_is_erased(self, world):
        mem, me, other = world
        await erase(mem, "v1")  # Hanna: active with `me`, proposed with `other`
        for m in mem.collections[store.MATCHES].values():
            assert m["volunteer_id"] != "v1"
        ended = [m for m in mem.collections[store.MATCHES].values()
                 if m["resident_id"] in (me, other) and m["offer"] == "language_tandem"]
        assert ended and all(m["state"] == "ended" and m["outcome"] == "cancelled"
                             for m in ended)

    async def test_a_volunteer_who_stopped_goes_a_year_later_with_an_expiry_event(self):
        mem = MemoryStore("volunteers")
        await volunteer(mem, "v9", "Mira", capacity=1, languages=["uk"])
        left = await run(mem, leaving.retire_volunteer, c.RetireVolunteer(
            actor=ADMIN, volunteer_id="v9"))
        assert left.left_at is not None and left.capacity == 0
        again = await run(mem, leaving.retire_volunteer, c.RetireVolunteer(
            actor=ADMIN, volunteer_id="v9"))
        assert again.left_at == left.left_at
        now = datetime.now(UTC)
        out = await retain(mem, now + timedelta(days=364))
        assert out["rules"]["former_volunteers"]["expired"] == 0
        out = await retain(mem, now + timedelta(days=366))
        assert out["rules"]["former_volunteers"]["ids"] == ["v9"]
        assert "v9" not in mem.collections["volunteers"]
        (expiry,) = [e for e in mem.outbox if "resident_expired" in e.subject]
        assert expiry.subject.endswith(".v9")
        assert msgspec.json.decode(expiry.body)["data"]["person"] == "volunteer"

    async def test_stopping_with_an_open_tandem_or_unknown_is_refused(self, world):
        mem, _, _ = world
        with pytest.raises(Conflict, match="open tandems"):
            await run(mem, leaving.retire_volunteer, c.RetireVolunteer(
                actor=ADMIN, volunteer_id="v1"))
        with pytest.raises(NotFound):
            await run(mem, leaving.retire_volunteer, c.RetireVolunteer(
                actor=ADMIN, volunteer_id="v-none"))
        with pytest.raises(Forbidden):
            await run(mem, leaving.retire_volunteer, c.RetireVolunteer(
                actor=Actor(subject="op", role="operator", operator="op1"),
                volunteer_id="v2"))
