"""A session held before the resident moved out, arriving after housing's report of the
move (the operator's system sends it late), must leave the case as the other order does:
closed. Found seeding the demo city, where the order is a race between two streams."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import pytest

from contracts import Actor, EventData
from contracts import housing as hs
from contracts import operator as op
from contracts.queries import GetResidentOverview
from counselling import operators, projection, queries
from im_runtime.memory import MemoryStore

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")
HELD, LEFT = date(2026, 10, 1), date(2026, 10, 20)
HOUSING = (
    hs.SiteRegistered(site_id="s1", kind="shelter", name="Munzeler Straße", operator_id="op-a",
                      district="Bothfeld-Vahrenheide", capacity=9),
    hs.ResidentPlaced(resident_id="r1", household_id="h1", site_id="s1", operator_id="op-a",
                      moved_in=date(2026, 9, 1)),
    hs.ResidentMovedOut(resident_id="r1", household_id="h1", site_id="s1", operator_id="op-a",
                        reason="own_flat", moved_out=LEFT),
)
SESSION = op.SessionRecorded(session_id="s-1", resident_id="r1", site_id="s1",
                             category="social_law", held_on=HELD, duration_minutes=30,
                             counsellor="bc-01")


async def feed(store: MemoryStore, data: EventData, source: str, on: date) -> None:
    handler: Any = (operators.on_session_recorded if isinstance(data, op.SessionRecorded)
                    else projection.on_site_registered if isinstance(data, hs.SiteRegistered)
                    else projection.on_resident_moved)
    await store.feed(handler, data, source, datetime.combine(on, datetime.min.time(), UTC))


async def case_after(session_last: bool) -> dict[str, Any]:
    store = MemoryStore("counselling")
    site, placed, moved = HOUSING
    await feed(store, site, "housing", date(2026, 8, 1))
    await feed(store, placed, "housing", placed.moved_in)
    if not session_last:
        await feed(store, SESSION, "op-a", HELD)
    await feed(store, moved, "housing", LEFT)
    if session_last:
        await feed(store, SESSION, "op-a", HELD)
    view = await store.ask(queries.resident_overview,
                           GetResidentOverview(resident_id="r1", actor=ADMIN))
    assert view is not None
    (case,) = view["cases"]
    return case  # type: ignore[no-any-return]


async def test_in_order_the_move_closes_the_case():
    case = await case_after(session_last=False)
    assert (case["open"], case["closed_on"]) == (False, LEFT.isoformat())


async def test_a_session_arriving_after_the_move_leaves_the_case_closed():
    assert await case_after(session_last=True) == await case_after(session_last=False)
