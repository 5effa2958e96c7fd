"""`register_household` against the in-memory store: the same documents and events as a
`register_resident` per member and a `place_household`, all or nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import Actor
from contracts import housing_commands as c
from housing import households, placements, residents, sites
from im_runtime import Conflict, DomainError, Forbidden
from im_runtime.memory import MemoryStore

pytestmark = pytest.mark.unit

ADMIN = Actor(subject="admin-1", role="city_admin")
ON = date(2026, 3, 2)
MEMBERS = [c.HouseholdMember(resident_id=f"r-{i}", given_name=given, family_name="Haddad",
                             birth_year=year, languages=["ar"],
                             residence_status="recognised_refugee",
                             arrival_date=date(2026, 3, 1))
           for i, (given, year) in enumerate((("Amal", 1988), ("Omar", 1986), ("Lina", 2016)))]
run = MemoryStore.handle


async def city(capacity: int = 10) -> MemoryStore:
    store = MemoryStore("housing")
    await run(store, sites.register_site, c.RegisterSite(
        actor=ADMIN, site_id="s1", kind="shelter", name="Munzeler Straße", operator_id="op1",
        address="Munzeler Straße 1", district="Bothfeld-Vahrenheide", capacity=capacity))
    return store


def stored(store: MemoryStore) -> dict[str, Any]:
    """The documents without their versions (one commit writes each once)."""
    return {coll: {id: {k: v for k, v in d.items() if k != "_v"} for id, d in docs.items()}
            for coll, docs in store.collections.items()}


def household(**kw: Any) -> c.RegisterHousehold:
    return c.RegisterHousehold(actor=ADMIN, household_id="h-1", members=MEMBERS, **kw)


async def test_the_same_documents_and_events_as_a_command_per_member_and_a_placement():
    one_by_one, at_once = await city(), await city()
    events = []
    for m in MEMBERS:
        _, emitted = await run(one_by_one, residents.register_resident, c.RegisterResident(
            actor=ADMIN, household_id="h-1", **msgspec.structs.asdict(m)))
        events += emitted
    _, emitted = await run(one_by_one, placements.place_household, c.PlaceHousehold(
        actor=ADMIN, household_id="h-1", site_id="s1", on=ON))
    events += emitted

    view, together = await run(at_once, households.register_household,
                               household(site_id="s1", on=ON))
    assert view == c.HouseholdView(household_id="h-1", resident_ids=["r-0", "r-1", "r-2"],
                                   site_id="s1")
    assert together == events
    assert stored(at_once) == stored(one_by_one)
    assert at_once.collections["sites"]["s1"]["occupancy"] == 3


async def test_without_a_site_the_household_is_only_registered():
    store = await city()
    view, events = await run(store, households.register_household, household())
    assert view.site_id is None and len(events) == len(MEMBERS)
    assert store.collections["households"]["h-1"]["site_id"] is None
    assert store.collections["sites"]["s1"]["occupancy"] == 0


@pytest.mark.parametrize(("capacity", "cmd", "error"), [
    (2, household(site_id="s1", on=ON), Conflict),  # the site is full: nobody registered
    (10, household(site_id="s1"), DomainError),  # a placement needs its date
    (10, c.RegisterHousehold(actor=Actor(subject="p", role="provider"), members=MEMBERS),
     Forbidden),
])
async def test_a_refused_household_leaves_nothing_behind(capacity, cmd, error):
    store = await city(capacity)
    before = (msgspec.json.encode(store.collections), len(store.outbox))
    with pytest.raises(error):
        await store.run(households.register_household, cmd)
    assert (msgspec.json.encode(store.collections), len(store.outbox)) == before


async def test_a_household_registered_before_is_a_conflict():
    store = await city()
    await run(store, households.register_household, household())
    with pytest.raises(Conflict, match="already registered"):
        await store.run(households.register_household, household())


async def test_a_social_worker_registers_a_household_at_her_site_not_elsewhere():
    store = await city()
    worker = Actor(subject="sw-1", role="social_worker", sites=("s1",))
    cmd = c.RegisterHousehold(actor=worker, household_id="h-1", members=MEMBERS,
                              site_id="s1", on=ON)
    view, _ = await run(store, households.register_household, cmd)
    assert len(view.resident_ids) == 3
    assert store.collections["sites"]["s1"]["occupancy"] == 3
    # joining a household registered before still needs its site
    with pytest.raises(Forbidden, match="not assigned"):
        await store.run(residents.register_resident, c.RegisterResident(
            actor=Actor(subject="sw-2", role="social_worker", sites=("s9",)),
            household_id="h-1", **msgspec.structs.asdict(MEMBERS[0]) | {"resident_id": "r-9"}))
