"""No other person's id travels in an event keyed by someone else (issue #22): a parent
with a child in a course's childcare and with a Kita request for the child is erased, and
then no stream (subject, headers or body of any message) and no database names the
parent, while the child's events and records stay."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from im_cli.testing import eventually
from im_runtime.plugins import installed
from support.world import (
    World,
    database_mentions,
    erase_and_wait,
    family,
    ok,
    own_world,
    stream_mentions,
)

pytestmark = pytest.mark.flow


@pytest.fixture(scope="module")
async def world(kit: Any) -> AsyncIterator[World]:
    async for w in own_world(kit, installed()):
        yield w


async def test_erasing_a_parent_leaves_their_id_in_no_stream_and_no_database(
        world: World) -> None:
    w, tag = world, uuid.uuid4().hex[:8]
    f = await family(w, tag)
    await ok(await w.gw.post("/api/v1/commands/education/create_course", {
        "course_id": f"c-{tag}", "kind": "parents_cafe", "title": "Elterncafé",
        "provider": "operator", "site_id": f.site, "starts": "2026-01-05",
        "ends": "2026-12-18", "capacity": 12, "childcare_places": 2}))

    async def enrolled() -> bool:  # education learns of both from housing's events
        r = await w.gw.post("/api/v1/education/enrolments", {
            "course_id": f"c-{tag}", "resident_id": f.parent, "children": [f.child]})
        return r.status_code == 200

    await eventually(enrolled, timeout=20, interval=0.2)
    await ok(await w.gw.post("/api/v1/commands/education/request_access", {
        "resident_id": f.child, "parent_id": f.parent, "kind": "kita",
        "district": "Bothfeld"}))

    async def on_the_bus() -> dict[str, int] | None:
        found = await stream_mentions(w, f.child)
        return found if found.get("IM_EVT_EDUCATION", 0) >= 2 else None

    await eventually(on_the_bus, timeout=20, interval=0.3)
    child_before = await stream_mentions(w, f.child)
    assert await database_mentions(w, [f.parent])

    done = await erase_and_wait(w, f.parent)
    assert "education" in {c["service"] for c in done["confirmations"]}

    assert await stream_mentions(w, f.parent) == {}
    assert await database_mentions(w, [f.parent]) == []
    # the child keeps their childcare and Kita events and their records
    child_after = await stream_mentions(w, f.child)
    assert child_after.get("IM_EVT_EDUCATION") == child_before.get("IM_EVT_EDUCATION")
    assert await database_mentions(w, [f.child])
