"""Retention reaches the event log (issue #22), with the real servers and every installed
service: every stream keeps its messages for the longest retention period of the services
that need it; an operator's case note leaves the bus once counselling has it, and after
its window even when nobody took it; and a resident whose record housing's retention
removed has no message left in any stream after the run."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from contracts import Actor, wrap
from contracts import operator as op
from contracts import subjects as subj
from im_cli.privacy import apply_all, build_report
from im_cli.testing import eventually
from im_runtime import log_retention
from im_runtime.plugins import installed
from privacy import notes
from support.world import World, family, ok, own_world, stream_mentions

pytestmark = pytest.mark.flow
DAY = 86400


@pytest.fixture(scope="module")
async def world(kit: Any) -> AsyncIterator[World]:
    async for w in own_world(kit, installed()):
        yield w


async def test_every_stream_keeps_messages_as_long_as_its_longest_rule(world: World) -> None:
    js = world.nc.jetstream()
    want = log_retention.stream_days(installed().values())
    assert want["IM_EVT_HOUSING"] == 1095  # housing's own rules and its consumers'
    assert want[subj.OPS_STREAM] == 1095  # counselling keeps what operators send
    for name in ("IM_EVT_HOUSING", "IM_EVT_EDUCATION", "IM_EVT_PRIVACY", subj.OPS_STREAM,
                 subj.DLQ_STREAM):
        info = await js.stream_info(name)
        assert info.config.max_age == want[name] * DAY, name


async def send_note(w: World, operator: str, resident: str, site: str, text: str) -> None:
    data = op.CaseNoteRecorded(resident_id=resident, site_id=site,
                               note_id=f"n-{uuid.uuid4().hex[:8]}",
                               written_on=date.today(), text=text)
    event = wrap(data, source=operator)
    await w.nc.jetstream().publish(subj.operator_event(operator, "case_note_recorded", resident),
                                   msgspec.json.encode(event), headers={"Nats-Msg-Id": event.id})


async def test_a_case_note_leaves_the_bus_once_consumed_and_after_its_window(
        world: World) -> None:
    w, tag = world, uuid.uuid4().hex[:8]
    f = await family(w, tag)
    operator = f"op-{tag}"
    taken = f"Note {tag}: asked about the Jobcenter letter"
    await send_note(w, operator, f.parent, f.site, taken)

    async def counselling_has_it() -> bool:  # its own database holds the text
        rep = await build_report(w.nc, f.parent, [taken], timeout=1.0)
        return bool(rep.services.get("counselling"))

    await eventually(counselling_has_it, timeout=20, interval=0.3)
    assert await stream_mentions(w, taken) == {subj.OPS_STREAM: 1}
    # its window has not passed, but every consumer of case notes has it
    erased = await eventually(lambda: _erased_some(w, timedelta(hours=24)), timeout=10)
    assert erased == {subj.OPS_STREAM: 1}
    assert await stream_mentions(w, taken) == {}

    # counselling is down: the note waits for it within its window, not beyond
    await w.runtimes["counselling"].stop()
    try:
        waiting = f"Note {tag}: waiting for counselling"
        await send_note(w, operator, f.parent, f.site, waiting)
        await eventually(lambda: _mentioned(w, waiting), timeout=10)
        assert await notes.look(w.nc) == {}
        assert await stream_mentions(w, waiting) == {subj.OPS_STREAM: 1}
        later = datetime.now(UTC) + timedelta(hours=25)
        assert await notes.look(w.nc, now=later) == {subj.OPS_STREAM: 1}
        assert await stream_mentions(w, waiting) == {}
    finally:
        await w.restart("counselling")


async def _erased_some(w: World, keep: timedelta) -> dict[str, int] | None:
    return await notes.look(w.nc, keep=keep) or None


async def _mentioned(w: World, text: str) -> bool:
    return bool(await stream_mentions(w, text))


async def test_an_expired_resident_has_no_message_left_in_any_stream(world: World) -> None:
    w, tag = world, uuid.uuid4().hex[:8]
    f = await family(w, tag)
    stays = await family(w, uuid.uuid4().hex[:8])  # still living in the city
    await ok(await w.gw.post(f"/api/v1/households/{f.household}/move-out",
                             {"reason": "own_flat", "on": date.today().isoformat()}))

    async def moved_out() -> bool:
        found = await stream_mentions(w, f.parent)
        return found.get("IM_EVT_HOUSING", 0) >= 3  # registered, placed, moved out

    await eventually(moved_out, timeout=20, interval=0.3)
    before_stays = await stream_mentions(w, stays.parent)
    assert before_stays

    later = datetime.now(UTC) + timedelta(days=1096)
    runs, errors = await apply_all(w.nc, later, Actor(subject="ops", role="city_admin"), 5.0)
    assert not errors, errors
    assert runs["housing"]["rules"]["moved_out_residents"]["expired"] >= 2

    async def gone() -> bool:
        return not await stream_mentions(w, f.parent) and \
            not await stream_mentions(w, f.child)

    await eventually(gone, timeout=20, interval=0.3)
    # the resident still in the city keeps their history
    assert await stream_mentions(w, stays.parent) == before_stays
