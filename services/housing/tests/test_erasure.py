"""Erasure and retention in housing: a resident with data in every collection is erased
(alone in a household, or sharing one), nothing names them afterwards, the city's figures
stay, and records past their retention period go. Against the in-memory store, and the
main cases again on the MongoDB-wire server, whose query engine is another."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Any

import msgspec
import pytest

from contracts import Actor, wrap
from contracts import housing_commands as c
from contracts.counselling import ReferralRequested
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from housing import erasure, moveout, placements, queries, referrals, residents, sites, staff
from housing.plugin import spec
from im_runtime import DomainError, NotFound
from im_runtime.memory import MemoryStore, mentioned
from im_runtime.privacy import RUNTIME_COLLECTIONS, confirm_erasure
from im_runtime.retention import expired_counts, run_committed
from im_runtime.spec import Erased
from im_runtime.storage.mongo import MongoStore

ADMIN = Actor(subject="admin-1", role="city_admin")
ON = date(2026, 3, 2)


async def run(store: Any, handler: Any, msg: Any) -> Any:
    uow = store.unit_of_work("housing")
    reply = await handler(msg, uow)
    await uow.commit()
    return reply


async def site(store: Any, site_id: str, capacity: int) -> None:
    await run(store, sites.register_site, c.RegisterSite(
        actor=ADMIN, site_id=site_id, kind="shelter", name=f"Site {site_id}",
        operator_id="op1", address="Straße 1", district="Mitte", capacity=capacity))


async def person(store: Any, given: str, family: str,
                 household_id: str | None = None) -> c.ResidentRecord:
    return await run(store, residents.register_resident, c.RegisterResident(
        actor=ADMIN, household_id=household_id, given_name=given, family_name=family,
        birth_year=1990, languages=["ar"], residence_status="asylum_pending",
        arrival_date=date(2026, 2, 1), phone="+49 511 000"))


async def place(store: Any, hh: str, site_id: str, **kw: Any) -> None:
    await run(store, placements.place_household, c.PlaceHousehold(
        actor=ADMIN, household_id=hh, site_id=site_id, on=ON, **kw))


async def open_case(store: Any, hh: str) -> str:
    view = await run(store, moveout.open_move_out_case,
                     c.OpenMoveOutCase(actor=ADMIN, household_id=hh))
    return str(view.case_id)


async def cancel(store: Any, case_id: str, reason: str = "found a flat alone") -> None:
    await run(store, moveout.advance, c.AdvanceMoveOutCase(
        actor=ADMIN, case_id=case_id, stage="cancelled", reason=reason))


async def move_out(store: Any, hh: str, on: date = ON) -> None:
    await run(store, placements.move_out_household, c.MoveOutHousehold(
        actor=ADMIN, household_id=hh, reason="own_flat", on=on))


async def searching(store: Any, case_id: str) -> None:
    """Criteria, an offer, a viewing and moving help: a case with everything in it."""
    await run(store, moveout.set_criteria, c.SetSearchCriteria(
        actor=ADMIN, case_id=case_id, household_size=2, rent_ceiling=600))
    view = await run(store, moveout.record_offer, c.RecordOffer(
        actor=ADMIN, case_id=case_id, landlord="GBH", address="Weg 2", rooms=2, rent=550,
        available_from=date(2026, 6, 1)))
    await run(store, moveout.record_viewing, c.RecordViewing(
        actor=ADMIN, case_id=case_id, offer_id=view.offer_id, on=ON, outcome="accepted"))
    await run(store, moveout.tick_help, c.TickMovingHelp(
        actor=ADMIN, case_id=case_id, item="furniture"))


async def referred(store: Any, rid: str) -> None:
    uow = store.unit_of_work("housing")
    await referrals.on_referral_requested(wrap(ReferralRequested(
        referral_id=f"ref-{rid}", resident_id=rid, operator_id="op1", site_id="s1",
        topic="housing_search", requested_on=ON), source="counselling"), uow)
    await uow.commit()


@dataclass
class World:
    shared: c.ResidentRecord  # Samira Haddad, shares a household (and its case) with Karim
    mate: c.ResidentRecord
    alone: c.ResidentRecord  # Jamal Ahmadi, alone, placed by emergency override, two cases
    other: c.ResidentRecord  # Lena Weber, another household at another site
    names: dict[str, tuple[str, str]]


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore()


@pytest.fixture
async def world(store: MemoryStore) -> World:
    return await build(store)


async def build(store: Any) -> World:
    await site(store, "s1", capacity=2)
    await site(store, "s2", capacity=5)
    await run(store, staff.assign_staff, c.AssignStaff(
        actor=ADMIN, staff_id="st1", name="Social Worker", site_ids=["s1", "s2"]))
    shared = await person(store, "Samira", "Haddad")
    mate = await person(store, "Karim", "Nasser", shared.household_id)
    await place(store, shared.household_id, "s1")
    await referred(store, shared.resident_id)  # opens the household's case, Samira applies
    (case,) = await store.unit_of_work("housing").find("cases")
    await searching(store, case["_id"])
    alone = await person(store, "Jamal", "Ahmadi")
    await place(store, alone.household_id, "s1", emergency_override=True,
                override_reason="Jamal Ahmadi's shelter burnt down")
    await cancel(store, await open_case(store, alone.household_id), "Jamal found a flat")
    await open_case(store, alone.household_id)
    other = await person(store, "Lena", "Weber")
    await place(store, other.household_id, "s2")
    await open_case(store, other.household_id)
    names = {r.resident_id: (r.given_name, r.family_name) for r in (shared, mate, alone, other)}
    return World(shared, mate, alone, other, names)


# what the service shows -------------------------------------------------------------------

async def figures(store: Any) -> list[Any]:
    uow = store.unit_of_work("housing")
    return [await queries.city_stats(GetCityStats(), uow),
            *[await queries.site_overview(GetSiteOverview(site_id=s), uow) for s in ("s1", "s2")]]


async def listed(store: Any, q: str | None = None) -> tuple[set[str], int]:
    page = await run(store, residents.list_residents, c.ListResidents(actor=ADMIN, q=q))
    return {r.resident_id for r in page.items}, page.total



erase = partial(confirm_erasure, spec)  # through the runtime, as a request arrives


# erasure --------------------------------------------------------------------------------

@pytest.mark.unit
class TestErasure:
    def test_the_spec_registers_the_hook(self):
        assert spec.erase is erasure.erase

    @pytest.mark.parametrize("who", ["shared", "alone"])
    async def test_nothing_names_the_resident_and_the_figures_stay(self, store, world, who):
        rid = getattr(world, who).resident_id
        assert store.mentions([rid, *world.names[rid]])
        before = await figures(store)
        await erase(store, rid)
        assert store.mentions([rid, *world.names[rid]]) == []
        assert await figures(store) == before

    @pytest.mark.parametrize("who", ["shared", "alone"])
    async def test_lists_and_views_no_longer_show_them(self, store, world, who):
        rid = getattr(world, who).resident_id
        ids, total = await listed(store)
        await erase(store, rid)
        assert await listed(store) == (ids - {rid}, total - 1)
        assert await listed(store, q=world.names[rid][1]) == (set(), 0)
        section = await queries.resident_overview(
            GetResidentOverview(actor=ADMIN, resident_id=rid), store.unit_of_work("housing"))
        assert section is None
        with pytest.raises(NotFound):
            await run(store, residents.get_resident, c.GetResident(actor=ADMIN, resident_id=rid))

    async def test_stand_ins_are_no_residents_and_no_cases(self, store, world):
        await erase(store, world.alone.resident_id)
        anon = {coll: [d for d in docs.values() if d.get("anonymised")]
                for coll, docs in store.collections.items()}
        assert {coll: len(docs) for coll, docs in anon.items() if docs} == {
            "residents": 1, "cases": 2, "overrides": 1}
        assert all(d["_id"].startswith("anon-") for docs in anon.values() for d in docs)
        for doc in anon["residents"]:
            section = await queries.resident_overview(
                GetResidentOverview(actor=ADMIN, resident_id=doc["_id"]),
                store.unit_of_work("housing"))
            assert section is None
        for doc in anon["cases"]:
            with pytest.raises(NotFound):
                await run(store, moveout.advance, c.AdvanceMoveOutCase(
                    actor=ADMIN, case_id=doc["_id"], stage="searching"))

    @pytest.mark.parametrize(("who", "removed", "anonymised"), [
        ("shared", {}, {"residents": 1, "households": 1, "cases": 1}),
        ("alone", {"households": 1}, {"residents": 1, "cases": 2, "overrides": 1}),
    ])
    async def test_the_confirmation_counts_honestly(self, store, world, who, removed,
                                                    anonymised):
        confirmed = await erase(store, getattr(world, who).resident_id)
        assert (confirmed.removed, confirmed.anonymised) == (removed, anonymised)

    @pytest.mark.parametrize("who", ["shared", "alone", "other"])
    async def test_a_second_erasure_changes_nothing(self, store, world, who):
        rid = getattr(world, who).resident_id
        await erase(store, rid)
        after = store.snapshot()
        uow = store.unit_of_work("housing")
        assert await erasure.erase(rid, uow) == Erased()
        await uow.commit()
        assert store.snapshot() == after

    async def test_an_erased_id_is_not_registered_again(self, store, world):
        rid = world.alone.resident_id
        await erase(store, rid)
        with pytest.raises(DomainError) as refused:
            await run(store, residents.register_resident, c.RegisterResident(
                actor=ADMIN, resident_id=rid, given_name="Again", family_name="Again",
                birth_year=1990, residence_status="asylum_pending",
                arrival_date=date(2026, 2, 1)))
        assert refused.value.code == "gone"

    async def test_an_unknown_resident_is_a_no_op(self, store, world):
        before = store.snapshot()
        confirmed = await erase(store, "r-nobody")
        assert (confirmed.removed, confirmed.anonymised) == ({}, {})
        assert msgspec.json.encode({c: d for c, d in store.collections.items()
                                    if c != "im_erased"}) == before

    async def test_the_housemate_keeps_everything_and_the_case(self, store, world):
        mate, hh = world.mate.resident_id, world.shared.household_id
        kept = dict(store.collections["residents"][mate])
        await erase(store, world.shared.resident_id)
        assert store.collections["residents"][mate] == kept
        assert store.collections["households"][hh]["member_ids"] == [mate]
        (case,) = [d for d in store.collections["cases"].values() if d["household_id"] == hh]
        assert case["applicant_id"] == mate and case["referrals"] == []
        assert len(case["offers"]) == 1 and case["help"]["furniture"] is True
        section = await queries.resident_overview(
            GetResidentOverview(actor=ADMIN, resident_id=mate), store.unit_of_work("housing"))
        assert section is not None and section["household_size"] == 1
        assert section["move_out_case"]["case_id"] == case["_id"]
        assert section["personal"]["family_name"] == "Nasser"

    @pytest.mark.parametrize("who", ["shared", "alone"])
    async def test_other_households_are_untouched(self, store, world, who):
        erased = getattr(world, who)
        before = {f"{coll}/{id}": doc for coll, docs in store.collections.items()
                  for id, doc in docs.items()}
        untouched = before.keys() - set(store.mentions(erased.household_id))
        await erase(store, erased.resident_id)
        for key in untouched:
            assert store.document(key) == before[key], key

    async def test_the_household_can_go_on_after_an_erasure(self, store, world):
        hh = world.shared.household_id
        await erase(store, world.shared.resident_id)
        await move_out(store, hh)
        # Jamal's place and the stand-in's: the erased resident's is not freed
        assert store.collections["sites"]["s1"]["occupancy"] == 2
        assert store.collections["residents"][world.mate.resident_id]["site_id"] is None


# retention ------------------------------------------------------------------------------

class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    clock = Clock(datetime(2026, 3, 2, 12, tzinfo=UTC))
    monkeypatch.setattr(moveout, "utcnow", clock)
    return clock


@dataclass
class Past:
    old: c.ResidentRecord  # moved out and case closed on 2026-03-02
    recent: c.ResidentRecord  # moved out and case closed on 2027-06-01
    here: c.ResidentRecord  # still placed (by emergency override on 2026-03-02)
    erased: c.ResidentRecord  # like `old`, then erased: only stand-ins left


@pytest.fixture
async def past(store: MemoryStore, clock: Clock) -> Past:
    return await build_past(store, clock)


async def build_past(store: Any, clock: Clock) -> Past:
    await site(store, "s1", capacity=2)

    async def left(given: str, on: date) -> c.ResidentRecord:
        r = await person(store, given, "Gone")
        await place(store, r.household_id, "s1")
        clock.now = datetime.combine(on, datetime.min.time(), UTC)
        await cancel(store, await open_case(store, r.household_id))
        await move_out(store, r.household_id, on)
        return r

    old, recent = await left("Old", ON), await left("Recent", date(2027, 6, 1))
    erased = await left("Erased", ON)
    here = await person(store, "Here", "Stays")
    await person(store, "Kid", "Stays", here.household_id)
    await person(store, "Teen", "Stays", here.household_id)
    await place(store, here.household_id, "s1", emergency_override=True,
                override_reason="no other place")
    clock.now = datetime(2026, 3, 2, 12, tzinfo=UTC)
    await cancel(store, await open_case(store, here.household_id))
    await erase(store, erased.resident_id)
    return Past(old, recent, here, erased)


AFTER = datetime(2029, 3, 3, tzinfo=UTC)  # 1097 days after 2026-03-02
BEFORE = datetime(2029, 2, 28, tzinfo=UTC)  # 1094 days after
EXPIRED = {"closed_cases": 2, "moved_out_residents": 1, "moved_out_households": 1,
           "overrides": 1, "former_staff": 0}
NONE = dict.fromkeys(EXPIRED, 0)


retain = partial(run_committed, spec)


@pytest.mark.unit
class TestRetention:
    async def test_nothing_goes_before_its_time(self, store, past):
        before = store.snapshot()
        result = await retain(store, BEFORE)
        assert expired_counts(result) == NONE
        assert store.snapshot() == before

    async def test_records_past_their_period_go_and_the_rest_stay(self, store, past):
        hh, case = past.old.household_id, store.collections["households"][
            past.old.household_id]["case_id"]
        here_case = store.collections["households"][past.here.household_id]["case_id"]
        stand_ins = {(coll, id) for coll, docs in store.collections.items()
                     for id, doc in docs.items() if doc.get("anonymised")}
        result = await retain(store, AFTER)
        assert expired_counts(result) == EXPIRED
        assert sorted(result["rules"]["closed_cases"]["ids"]) == sorted([case, here_case])
        assert past.old.resident_id not in store.collections["residents"]
        assert hh not in store.collections["households"]
        assert not store.collections["overrides"]
        for kept in (past.recent, past.here):
            assert kept.resident_id in store.collections["residents"]
            assert kept.household_id in store.collections["households"]
        assert stand_ins <= {(coll, id) for coll, docs in store.collections.items()
                             for id in docs}
        assert "retention_applied" in store.outbox[-1].subject
        # the registry's record went: every message about them is to leave the log
        assert store.outbox[-2].subject == f"im.evt.privacy.resident_expired.{past.old.resident_id}"

    async def test_a_dry_run_lists_without_removing(self, store, past):
        before, outbox = store.snapshot(), len(store.outbox)
        result = await retain(store, AFTER, dry_run=True)
        assert result["dry_run"] is True
        assert expired_counts(result) == EXPIRED
        assert result["rules"]["moved_out_residents"]["ids"] == [past.old.resident_id]
        assert store.snapshot() == before and len(store.outbox) == outbox

    async def test_the_city_sets_its_own_period(self, store, past, monkeypatch):
        monkeypatch.setenv("IM_RETENTION_HOUSING_MOVED_OUT_RESIDENTS", "3650")
        result = await retain(store, AFTER, dry_run=True)
        assert result["rules"]["moved_out_residents"]["days"] == 3650
        assert expired_counts(result)["moved_out_residents"] == 0

    async def test_a_household_whose_case_went_opens_a_new_one(self, store, past):
        await retain(store, AFTER)
        case_id = await open_case(store, past.here.household_id)
        section = await queries.resident_overview(
            GetResidentOverview(actor=ADMIN, resident_id=past.here.resident_id),
            store.unit_of_work("housing"))
        assert section is not None and section["move_out_case"]["case_id"] == case_id

    async def test_moving_in_again_stops_the_clock(self, store, past):
        await site(store, "s2", capacity=5)
        await place(store, past.old.household_id, "s2")
        result = await retain(store, AFTER, dry_run=True)
        assert expired_counts(result)["moved_out_residents"] == 0
        assert expired_counts(result)["moved_out_households"] == 0


# on the MongoDB-wire server ---------------------------------------------------------------

@pytest.mark.integration
class TestOnTheWireServer:
    @pytest.fixture
    async def mongo(self, settings: Any) -> Any:
        wire = MongoStore(settings.mongo_url, settings.db_prefix + "housing")
        await wire.start(spec.indexes)
        yield wire
        await wire.close()

    async def test_an_erasure_leaves_no_trace_and_the_figures(self, mongo):
        world = await build(mongo)
        before = await figures(mongo)
        for who in (world.shared, world.alone):
            await erase(mongo, who.resident_id)
        terms = (world.shared.resident_id, world.alone.resident_id, "Samira", "Haddad",
                 "Jamal", "Ahmadi")
        assert await stored_mentions(mongo, terms) == []
        assert await figures(mongo) == before
        assert await listed(mongo) == ({world.mate.resident_id, world.other.resident_id}, 2)

    async def test_retention_finds_the_same_records(self, mongo, clock):
        await build_past(mongo, clock)
        assert expired_counts(await retain(mongo, BEFORE, dry_run=True)) == NONE
        assert expired_counts(await retain(mongo, AFTER, dry_run=True)) == EXPIRED
        await retain(mongo, AFTER)
        assert expired_counts(await retain(mongo, AFTER, dry_run=True)) == NONE
        uow = mongo.unit_of_work("housing")
        assert await uow.count("residents", {"anonymised": True}) == 1
        assert await uow.count("cases", {"anonymised": True}) == 1


async def stored_mentions(store: Any, terms: tuple[str, ...]) -> list[str]:
    """Documents naming a term in the service's own collections (the runtime's outbox
    holds events not yet relayed; the relay does not run here)."""
    uow = store.unit_of_work("housing")
    return [f"{coll}/{doc['_id']}" for coll in await uow.collections()
            if coll not in RUNTIME_COLLECTIONS
            for doc in await uow.find(coll) if mentioned(doc, terms)]


@pytest.mark.unit
class TestStaff:
    """A social worker's deployment goes when she is erased, and three years after she
    was deployed nowhere any more (her expiry then takes her events off the bus)."""

    async def test_an_erased_staff_member_leaves_no_deployment(self, store, world):
        done = await erase(store, "st1")
        assert done.removed == {"staff": 1} and not done.anonymised
        assert "st1" not in store.collections["staff"]
        assert store.collections["residents"]  # the residents are someone else

    async def test_a_deployment_that_ended_expires_after_three_years(self, store):
        await site(store, "s1", capacity=2)
        await run(store, staff.assign_staff, c.AssignStaff(
            actor=ADMIN, staff_id="st2", name="Jana K.", site_ids=["s1"]))
        await run(store, staff.assign_staff, c.AssignStaff(
            actor=ADMIN, staff_id="st3", name="Ali R.", site_ids=["s1"]))
        await run(store, staff.assign_staff, c.AssignStaff(
            actor=ADMIN, staff_id="st2", name="Jana K.", site_ids=[]))
        now = datetime.now(UTC)
        soon = await retain(store, now + timedelta(days=1094))
        assert soon["rules"]["former_staff"]["expired"] == 0
        later = await retain(store, now + timedelta(days=1096))
        assert later["rules"]["former_staff"]["ids"] == ["st2"]  # st3 is still deployed
        assert set(store.collections["staff"]) == {"st3"}
        (expiry,) = [e for e in store.outbox if "resident_expired" in e.subject]
        assert expiry.subject.endswith(".st2")
        assert msgspec.json.decode(expiry.body)["data"]["person"] == "staff"
