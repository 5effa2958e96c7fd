"""Housing's handlers against the in-memory store: placements, households, capacity and
overrides, move-out completion, referrals and access checks, without servers."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import Actor, CloudEvent, wrap
from contracts import housing as ev
from contracts import housing_commands as c
from contracts import referrals as rf
from contracts.counselling import ReferralRequested
from contracts.queries import GetResidentOverview, GetSiteOverview
from housing import moveout, placements, queries, referrals, residents, sites, staff
from im_runtime import Conflict, DomainError, Forbidden, NotFound
from im_runtime.memory import MemoryStore

pytestmark = pytest.mark.unit

ADMIN = Actor(subject="admin-1", role="city_admin")
ON = date(2026, 3, 2)
FORWARD = ("searching", "offer_received", "viewing", "lease_signed", "moving", "moved_out")
run = MemoryStore.handle


async def refuse(store: MemoryStore, handler: Any, cmd: Any, exc: type[Exception]) -> Any:
    """The handler refuses and nothing is stored."""
    before = (msgspec.json.encode(store.collections), len(store.outbox))
    with pytest.raises(exc) as err:
        await store.run(handler, cmd)
    assert (msgspec.json.encode(store.collections), len(store.outbox)) == before
    return err.value


def doc(store: MemoryStore, coll: str, id: str) -> dict[str, Any]:
    return store.collections[coll][id]


async def site(store: MemoryStore, site_id: str, capacity: int = 10,
               kind: str = "shelter") -> None:
    await run(store, sites.register_site, c.RegisterSite(
        actor=ADMIN, site_id=site_id, kind=kind, name=f"Site {site_id}",
        operator_id="op1" if kind == "shelter" else None, address="Straße 1",
        district="Mitte", capacity=capacity))


async def household(store: MemoryStore, size: int, name: str = "Haddad") -> tuple[str, list[str]]:
    first, _ = await run(store, residents.register_resident, c.RegisterResident(
        actor=ADMIN, given_name="A", family_name=name, birth_year=1988,
        residence_status="asylum_pending", arrival_date=date(2026, 3, 1)))
    ids = [first.resident_id]
    for _ in range(size - 1):
        more, _ = await run(store, residents.register_resident, c.RegisterResident(
            actor=ADMIN, household_id=first.household_id, given_name="B", family_name=name,
            birth_year=2015, residence_status="asylum_pending", arrival_date=date(2026, 3, 1)))
        ids.append(more.resident_id)
    return first.household_id, ids


async def place(store: MemoryStore, hh: str, site_id: str, actor: Actor = ADMIN,
                **kw: Any) -> tuple[c.Placed, list[Any]]:
    return await run(store, placements.place_household, c.PlaceHousehold(
        actor=actor, household_id=hh, site_id=site_id, on=ON, **kw))


def occupancy(store: MemoryStore, site_id: str) -> int:
    return int(doc(store, "sites", site_id)["occupancy"])


def placed_at(store: MemoryStore, site_id: str) -> int:
    return sum(1 for r in store.collections["residents"].values() if r["site_id"] == site_id)


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore("housing")


# placements -----------------------------------------------------------------------------

class TestPlacements:
    async def test_a_household_moves_in_together(self, store):
        await site(store, "s1", capacity=5)
        hh, ids = await household(store, 3)
        placed, events = await place(store, hh, "s1")
        assert placed.kind == "placed" and sorted(placed.resident_ids) == sorted(ids)
        assert placed.occupancy == 3 == occupancy(store, "s1")
        assert sorted(e.resident_id for e in events) == sorted(ids)
        assert all(isinstance(e, ev.ResidentPlaced) and e.site_id == "s1"
                   and not e.emergency_override for e in events)
        for rid in ids:
            person = doc(store, "residents", rid)
            assert person["site_id"] == "s1"
            assert person["placements"] == [
                {"site_id": "s1", "since": ON.isoformat(), "until": None, "override": False}]

    async def test_placing_a_placed_household_transfers_it(self, store):
        await site(store, "s1", capacity=5)
        await site(store, "s2", capacity=5, kind="apartment")
        hh, ids = await household(store, 2)
        await place(store, hh, "s1")
        moved, events = await place(store, hh, "s2")
        assert moved.kind == "transferred"
        assert (occupancy(store, "s1"), occupancy(store, "s2")) == (0, 2)
        assert (placed_at(store, "s1"), placed_at(store, "s2")) == (0, 2)
        assert all(isinstance(e, ev.ResidentTransferred) and e.from_site_id == "s1"
                   and e.site_id == "s2" and e.from_operator_id == "op1" for e in events)
        for rid in ids:  # one active placement: the old one ended
            history = doc(store, "residents", rid)["placements"]
            assert [p["until"] is None for p in history] == [False, True]
            assert history[0]["end_reason"] == "transferred"

    async def test_placing_where_it_already_lives_is_a_conflict(self, store):
        await site(store, "s1")
        hh, _ = await household(store, 1)
        await place(store, hh, "s1")
        err = await refuse(store, placements.place_household, c.PlaceHousehold(
            actor=ADMIN, household_id=hh, site_id="s1", on=ON), Conflict)
        assert err.code == "conflict" and occupancy(store, "s1") == 1

    async def test_a_full_site_refuses_and_nothing_changes(self, store):
        await site(store, "s1", capacity=2)
        hh, _ = await household(store, 3)
        err = await refuse(store, placements.place_household, c.PlaceHousehold(
            actor=ADMIN, household_id=hh, site_id="s1", on=ON), Conflict)
        assert err.details == {"site_id": "s1", "capacity": "2", "occupancy": "0",
                               "needed": "3", "rule": "site_full"}
        assert "overrides" not in store.collections

    async def test_a_full_site_transfer_keeps_the_old_placement(self, store):
        await site(store, "s1", capacity=5)
        await site(store, "s2", capacity=1)
        hh, _ = await household(store, 2)
        await place(store, hh, "s1")
        await refuse(store, placements.place_household, c.PlaceHousehold(
            actor=ADMIN, household_id=hh, site_id="s2", on=ON), Conflict)
        assert (occupancy(store, "s1"), occupancy(store, "s2")) == (2, 0)

    async def test_an_override_needs_a_reason(self, store):
        await site(store, "s1", capacity=1)
        hh, _ = await household(store, 2)
        err = await refuse(store, placements.place_household, c.PlaceHousehold(
            actor=ADMIN, household_id=hh, site_id="s1", on=ON, emergency_override=True),
            DomainError)
        assert err.code == "bad_request"

    async def test_an_emergency_override_is_recorded(self, store):
        await site(store, "s1", capacity=1)
        hh, _ = await household(store, 2)
        placed, events = await place(store, hh, "s1", emergency_override=True,
                                     override_reason="fire at another shelter")
        assert placed.occupancy == 2 and placed.capacity == 1
        (override,) = store.collections["overrides"].values()
        assert override["site_id"] == "s1" and override["household_id"] == hh
        assert override["reason"] == "fire at another shelter" and override["by"] == "admin-1"
        assert (override["occupancy_before"], override["capacity"]) == (0, 1)
        assert len(events) == 2 and all(e.emergency_override for e in events)

    async def test_no_override_record_when_there_is_room(self, store):
        await site(store, "s1", capacity=5)
        hh, _ = await household(store, 2)
        await place(store, hh, "s1", emergency_override=True, override_reason="just in case")
        assert not store.collections.get("overrides")

    async def test_moving_out_frees_the_places(self, store):
        await site(store, "s1", capacity=5)
        hh, ids = await household(store, 3)
        await place(store, hh, "s1")
        out, events = await run(store, placements.move_out_household, c.MoveOutHousehold(
            actor=ADMIN, household_id=hh, reason="other_municipality", on=date(2026, 5, 1)))
        assert out.kind == "moved_out" and out.occupancy == 0 == occupancy(store, "s1")
        assert sorted(e.resident_id for e in events) == sorted(ids)
        assert all(isinstance(e, ev.ResidentMovedOut) and e.reason == "other_municipality"
                   for e in events)
        for rid in ids:
            person = doc(store, "residents", rid)
            assert person["site_id"] is None
            assert person["placements"][-1]["until"] == "2026-05-01"
            assert person["placements"][-1]["end_reason"] == "other_municipality"

    async def test_moving_out_an_unplaced_household_is_a_conflict(self, store):
        hh, _ = await household(store, 1)
        await refuse(store, placements.move_out_household, c.MoveOutHousehold(
            actor=ADMIN, household_id=hh, reason="departed", on=ON), Conflict)

    async def test_unknown_household_or_site_is_not_found(self, store):
        await site(store, "s1")
        hh, _ = await household(store, 1)
        await refuse(store, placements.place_household, c.PlaceHousehold(
            actor=ADMIN, household_id="nope", site_id="s1", on=ON), NotFound)
        err = await refuse(store, placements.place_household, c.PlaceHousehold(
            actor=ADMIN, household_id=hh, site_id="nope", on=ON), NotFound)
        assert err.details == {"site_id": "nope"}

    async def test_a_new_member_of_a_placed_household_is_placed_with_it(self, store):
        await site(store, "s1", capacity=3)
        hh, _ = await household(store, 2)
        await place(store, hh, "s1")
        baby, events = await run(store, residents.register_resident, c.RegisterResident(
            actor=ADMIN, household_id=hh, given_name="C", family_name="Haddad",
            birth_year=2026, residence_status="asylum_pending", arrival_date=date(2026, 4, 1)))
        assert baby.site_id == "s1"
        assert occupancy(store, "s1") == 3 == placed_at(store, "s1")
        assert any(isinstance(e, ev.ResidentPlaced) and e.resident_id == baby.resident_id
                   for e in events)
        await run(store, placements.move_out_household, c.MoveOutHousehold(
            actor=ADMIN, household_id=hh, reason="own_flat", on=ON))
        assert occupancy(store, "s1") == 0 == placed_at(store, "s1")

    async def test_a_new_member_does_not_overfill_the_site(self, store):
        await site(store, "s1", capacity=2)
        hh, _ = await household(store, 2)
        await place(store, hh, "s1")
        await refuse(store, residents.register_resident, c.RegisterResident(
            actor=ADMIN, household_id=hh, given_name="C", family_name="Haddad",
            birth_year=2026, residence_status="asylum_pending", arrival_date=ON), Conflict)

    async def test_capacity_cannot_go_below_occupancy(self, store):
        await site(store, "s1", capacity=5)
        hh, _ = await household(store, 3)
        await place(store, hh, "s1")
        await refuse(store, sites.change_capacity,
                     c.ChangeSiteCapacity(actor=ADMIN, site_id="s1", capacity=2), Conflict)
        view, events = await run(store, sites.change_capacity,
                                 c.ChangeSiteCapacity(actor=ADMIN, site_id="s1", capacity=3))
        assert view.capacity == 3 and events == [ev.SiteCapacityChanged(site_id="s1",
                                                                        capacity=3)]


# move-out cases -------------------------------------------------------------------------

async def open_case(store: MemoryStore, hh: str, actor: Actor = ADMIN) -> str:
    view, _ = await run(store, moveout.open_move_out_case,
                        c.OpenMoveOutCase(actor=actor, household_id=hh))
    return view.case_id


async def advance(store: MemoryStore, case_id: str, stage: str, reason: str | None = None,
                  actor: Actor = ADMIN) -> tuple[c.CaseView, list[Any]]:
    return await run(store, moveout.advance, c.AdvanceMoveOutCase(
        actor=actor, case_id=case_id, stage=stage, reason=reason))


class TestMoveOut:
    async def test_completing_the_case_ends_the_placement(self, store):
        await site(store, "s1", capacity=5)
        hh, ids = await household(store, 2)
        await place(store, hh, "s1")
        case_id = await open_case(store, hh)
        for stage in FORWARD[:-1]:
            await advance(store, case_id, stage)
        view, events = await advance(store, case_id, "moved_out")
        assert view.stage == "moved_out"
        assert occupancy(store, "s1") == 0 == placed_at(store, "s1")
        assert sorted(e.resident_id for e in events if isinstance(e, ev.ResidentMovedOut)) \
            == sorted(ids)
        closed = [e for e in events if isinstance(e, ev.MoveOutCaseClosed)]
        assert len(closed) == 1 and closed[0].outcome == "moved_out"
        assert doc(store, "cases", case_id)["open"] is False

    async def test_one_open_case_per_household(self, store):
        await site(store, "s1")
        hh, _ = await household(store, 2)
        await place(store, hh, "s1")
        first = await open_case(store, hh)
        assert await open_case(store, hh) == first
        assert len(store.collections["cases"]) == 1
        await advance(store, first, "cancelled", "found a flat alone")
        second = await open_case(store, hh)
        assert second != first

    async def test_illegal_transitions_are_conflicts_and_store_nothing(self, store):
        await site(store, "s1")
        hh, _ = await household(store, 1)
        await place(store, hh, "s1")
        case_id = await open_case(store, hh)
        err = await refuse(store, moveout.advance, c.AdvanceMoveOutCase(
            actor=ADMIN, case_id=case_id, stage="lease_signed"), Conflict)
        assert err.details["stage"] == "opened"
        await advance(store, case_id, "cancelled", "not needed")
        err = await refuse(store, moveout.advance, c.AdvanceMoveOutCase(
            actor=ADMIN, case_id=case_id, stage="searching"), Conflict)
        assert err.details == {"case_id": case_id, "stage": "cancelled"}

    async def test_offers_viewings_and_help(self, store):
        await site(store, "s1")
        hh, ids = await household(store, 1)
        await place(store, hh, "s1")
        case_id = await open_case(store, hh)
        view, events = await run(store, moveout.set_criteria, c.SetSearchCriteria(
            actor=ADMIN, case_id=case_id, household_size=1, rent_ceiling=600, wbs="applied"))
        assert view.stage == "searching"
        view, events = await run(store, moveout.record_offer, c.RecordOffer(
            actor=ADMIN, case_id=case_id, landlord="GBH", address="Weg 2", rooms=2, rent=550,
            available_from=date(2026, 6, 1)))
        assert view.stage == "offer_received" and view.offer_id
        assert [type(e) for e in events] == [ev.OfferRecorded, ev.MoveOutCaseAdvanced]
        await refuse(store, moveout.record_viewing, c.RecordViewing(
            actor=ADMIN, case_id=case_id, offer_id="o-unknown", on=ON, outcome="accepted"),
            NotFound)
        view, events = await run(store, moveout.record_viewing, c.RecordViewing(
            actor=ADMIN, case_id=case_id, offer_id=view.offer_id, on=ON, outcome="accepted"))
        assert view.stage == "viewing"
        assert [type(e) for e in events] == [ev.ViewingRecorded, ev.MoveOutCaseAdvanced]
        await run(store, moveout.tick_help, c.TickMovingHelp(
            actor=ADMIN, case_id=case_id, item="furniture"))
        case = doc(store, "cases", case_id)
        assert case["help"]["furniture"] is True and case["criteria"]["wbs"] == "applied"
        assert all(e.resident_id == ids[0] for e in events)

    async def test_a_transfer_takes_the_open_case_along(self, store):
        await site(store, "s1")
        await site(store, "s2")
        hh, _ = await household(store, 1)
        await place(store, hh, "s1")
        case_id = await open_case(store, hh)
        await place(store, hh, "s2")
        assert doc(store, "cases", case_id)["site_id"] == "s2"
        worker = Actor(subject="sw", role="social_worker", sites=("s2",))
        view, _ = await advance(store, case_id, "searching", actor=worker)
        assert view.stage == "searching"

    async def test_a_case_of_a_household_that_left_can_still_close(self, store):
        await site(store, "s1")
        hh, _ = await household(store, 1)
        await place(store, hh, "s1")
        case_id = await open_case(store, hh)
        for stage in FORWARD[:-1]:
            await advance(store, case_id, stage)
        await run(store, placements.move_out_household, c.MoveOutHousehold(
            actor=ADMIN, household_id=hh, reason="own_flat", on=ON))
        view, _ = await advance(store, case_id, "moved_out")
        assert view.stage == "moved_out" and occupancy(store, "s1") == 0


# referrals ------------------------------------------------------------------------------

def referral(resident_id: str, topic: str = "housing_search",
             referral_id: str = "ref-1") -> CloudEvent[Any]:
    return wrap(ReferralRequested(referral_id=referral_id, resident_id=resident_id,
                                  operator_id="op1", site_id="s1", topic=topic,
                                  requested_on=ON), source="counselling")


async def consume(store: MemoryStore, event: CloudEvent[Any]) -> list[Any]:
    """As the runtime delivers it: through the spec's route (its `where` on the topic)."""
    from housing.plugin import spec

    handler = spec.router()(event)
    if handler is None:
        return []
    assert handler is referrals.on_referral_requested
    _, events = await store.handle(handler, event)
    return events


class TestReferrals:
    async def test_a_housing_search_referral_opens_a_case(self, store):
        await site(store, "s1")
        hh, ids = await household(store, 2)
        await place(store, hh, "s1")
        events = await consume(store, referral(ids[1]))
        opened = [e for e in events if isinstance(e, ev.MoveOutCaseOpened)]
        accepted = [e for e in events if isinstance(e, rf.ReferralAccepted)]
        assert len(opened) == 1 and opened[0].referral_id == "ref-1"
        assert len(accepted) == 1
        assert accepted[0].reference == opened[0].case_id
        assert (accepted[0].referral_id, accepted[0].resident_id) == ("ref-1", ids[1])
        assert doc(store, "households", hh)["case_id"] == opened[0].case_id

    async def test_a_referral_links_to_the_open_case(self, store):
        await site(store, "s1")
        hh, ids = await household(store, 2)
        await place(store, hh, "s1")
        case_id = await open_case(store, hh)
        events = await consume(store, referral(ids[0], referral_id="ref-2"))
        assert [type(e) for e in events] == [rf.ReferralAccepted]
        assert events[0].reference == case_id
        assert len(store.collections["cases"]) == 1
        for stage in FORWARD:
            _, events = await advance(store, case_id, stage)
        done = [e for e in events if isinstance(e, rf.ReferralCompleted)]
        assert len(done) == 1 and done[0].referral_id == "ref-2"
        assert done[0].outcome == "moved_out" and done[0].reference == case_id

    async def test_the_same_referral_twice_is_answered_once(self, store):
        await site(store, "s1")
        hh, ids = await household(store, 1)
        await place(store, hh, "s1")
        first = await consume(store, referral(ids[0]))
        again = await consume(store, referral(ids[0]))  # a new event id, same referral
        assert sum(isinstance(e, rf.ReferralAccepted) for e in first) == 1
        assert again == []
        (case,) = store.collections["cases"].values()
        assert len(case["referrals"]) == 1

    async def test_an_unknown_resident_is_rejected_with_the_reason(self, store):
        events = await consume(store, referral("r-nobody"))
        assert len(events) == 1 and isinstance(events[0], rf.ReferralRejected)
        assert "not registered" in events[0].reason
        assert events[0].resident_id == "r-nobody" and "cases" not in store.collections
        assert store.outbox[0].subject == "im.evt.referrals.referral_rejected.r-nobody"

    async def test_an_unplaced_resident_is_rejected_with_the_reason(self, store):
        _, ids = await household(store, 1)
        events = await consume(store, referral(ids[0]))
        assert len(events) == 1 and isinstance(events[0], rf.ReferralRejected)
        assert "no active placement" in events[0].reason
        assert "cases" not in store.collections

    @pytest.mark.parametrize("topic", ["language_course", "kita_school", "volunteers"])
    async def test_other_topics_are_ignored(self, store, topic):
        await site(store, "s1")
        hh, ids = await household(store, 1)
        await place(store, hh, "s1")
        outbox = len(store.outbox)
        assert await consume(store, referral(ids[0], topic=topic)) == []
        assert "cases" not in store.collections and len(store.outbox) == outbox


# access ---------------------------------------------------------------------------------

class TestAccess:
    @pytest.fixture
    async def world(self, store):
        await site(store, "s1")
        await site(store, "s2")
        hh, ids = await household(store, 1)
        await place(store, hh, "s1")
        case_id = await open_case(store, hh)
        return hh, ids[0], case_id

    async def test_a_social_worker_acts_at_their_own_sites(self, store, world):
        _, rid, case_id = world
        mine = Actor(subject="sw1", role="social_worker", sites=("s1",))
        view, _ = await advance(store, case_id, "searching", actor=mine)
        assert view.stage == "searching"
        record, _ = await run(store, residents.get_resident,
                              c.GetResident(actor=mine, resident_id=rid))
        assert record.resident_id == rid

    async def test_a_social_worker_elsewhere_is_forbidden(self, store, world):
        hh, rid, case_id = world
        other = Actor(subject="sw2", role="social_worker", sites=("s2",))
        for handler, cmd in [
            (moveout.advance, c.AdvanceMoveOutCase(actor=other, case_id=case_id,
                                                   stage="searching")),
            (placements.place_household, c.PlaceHousehold(actor=other, household_id=hh,
                                                          site_id="s2", on=ON)),
            (placements.move_out_household, c.MoveOutHousehold(
                actor=other, household_id=hh, reason="own_flat", on=ON)),
            (residents.get_resident, c.GetResident(actor=other, resident_id=rid)),
            (residents.change_status, c.ChangeResidenceStatus(
                actor=other, resident_id=rid, residence_status="tolerated")),
            (residents.list_residents, c.ListResidents(actor=other, site_id="s1")),
            (moveout.record_offer, c.RecordOffer(
                actor=other, case_id=case_id, landlord="L", address="A", rooms=1, rent=1,
                available_from=ON)),
        ]:
            err = await refuse(store, handler, cmd, Forbidden)
            assert err.code == "forbidden", handler

    @pytest.mark.parametrize("role", ["provider", "auditor", "operator"])
    async def test_other_roles_may_not_write(self, store, world, role):
        hh, rid, case_id = world
        actor = Actor(subject="x", role=role, provider="p1", operator="op1")
        for handler, cmd in [
            (sites.register_site, c.RegisterSite(
                actor=actor, site_id="s9", kind="apartment", name="n", address="a",
                district="d", capacity=1)),
            (sites.change_capacity, c.ChangeSiteCapacity(actor=actor, site_id="s1",
                                                         capacity=20)),
            (residents.register_resident, c.RegisterResident(
                actor=actor, given_name="g", family_name="f", birth_year=1990,
                residence_status="tolerated", arrival_date=ON)),
            (residents.change_status, c.ChangeResidenceStatus(
                actor=actor, resident_id=rid, residence_status="tolerated")),
            (placements.place_household, c.PlaceHousehold(actor=actor, household_id=hh,
                                                          site_id="s2", on=ON)),
            (placements.move_out_household, c.MoveOutHousehold(
                actor=actor, household_id=hh, reason="own_flat", on=ON)),
            (staff.assign_staff, c.AssignStaff(actor=actor, staff_id="st1", name="n",
                                               site_ids=["s1"])),
            (moveout.open_move_out_case, c.OpenMoveOutCase(actor=actor, household_id=hh)),
            (moveout.advance, c.AdvanceMoveOutCase(actor=actor, case_id=case_id,
                                                   stage="searching")),
            (moveout.tick_help, c.TickMovingHelp(actor=actor, case_id=case_id,
                                                 item="utilities")),
        ]:
            await refuse(store, handler, cmd, Forbidden)

    async def test_social_workers_may_not_register_sites_or_deploy_staff(self, store, world):
        worker = Actor(subject="sw1", role="social_worker", sites=("s1",))
        await refuse(store, sites.register_site, c.RegisterSite(
            actor=worker, site_id="s9", kind="apartment", name="n", address="a",
            district="d", capacity=1), Forbidden)
        await refuse(store, staff.assign_staff, c.AssignStaff(
            actor=worker, staff_id="st1", name="n", site_ids=["s1"]), Forbidden)

    async def test_an_operator_reads_only_its_own_residents(self, store, world):
        _, rid, _ = world
        own = Actor(subject="o", role="operator", operator="op1")
        record, _ = await run(store, residents.get_resident,
                              c.GetResident(actor=own, resident_id=rid))
        assert record.given_name == "A"
        other = Actor(subject="o2", role="operator", operator="op2")
        await refuse(store, residents.get_resident,
                     c.GetResident(actor=other, resident_id=rid), Forbidden)

    async def test_personal_data_in_the_overview_only_for_those_allowed(self, store, world):
        _, rid, _ = world
        allowed = [ADMIN, Actor(subject="sw1", role="social_worker", sites=("s1",)),
                   Actor(subject="o", role="operator", operator="op1")]
        refused = [Actor(subject="sw2", role="social_worker", sites=("s2",)),
                   Actor(subject="o2", role="operator", operator="op2"),
                   Actor(subject="p", role="provider", provider="p1"),
                   Actor(subject="a", role="auditor")]
        for actor in allowed + refused:
            section = await store.ask(queries.resident_overview,
                                      GetResidentOverview(actor=actor, resident_id=rid))
            assert section is not None and section["site"]["site_id"] == "s1"
            assert ("personal" in section) == (actor in allowed), actor

    async def test_the_site_overview_counts_open_cases_and_overrides(self, store, world):
        section = await store.ask(queries.site_overview, GetSiteOverview(site_id="s1"))
        assert section is not None
        assert (section["occupancy"], section["free"], section["open_move_out_cases"]) \
            == (1, 9, 1)
