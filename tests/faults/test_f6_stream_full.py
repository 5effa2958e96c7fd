"""F6: the probe's event stream reaches its limit (max_bytes, discard new, as an operator
sets limits on an event log): publishers get a clear error; what the probe committed
waits in its outbox (nothing dropped), and goes out by itself once there is room; a
command whose events cannot be published is not answered as done."""

from __future__ import annotations

import time
from typing import Any

import msgspec
import pytest
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.errors import APIError

from contracts import subjects as subj
from faults.harness import PROBE_STREAM, Stage, report
from im_cli.testing import eventually
from support.probe import Add

pytestmark = pytest.mark.faults

SENT = 400


async def test_full_stream_keeps_events_in_the_outbox(stage: Stage) -> None:
    nc = await stage.connect()
    js = nc.jetstream()
    await stage.declare(nc)
    await js.add_stream(StreamConfig(
        name=PROBE_STREAM, subjects=[subj.events_of("probe")], storage=StorageType.FILE,
        duplicate_window=600.0, max_bytes=40_000, discard=DiscardPolicy.NEW))
    stage.start("probe")
    await stage.until_ready("probe")
    try:
        await stage.send(js, SENT)
        full = await eventually(lambda: _outbox_waiting(stage, js), timeout=60)
        error, pushed = "", 0  # what any publisher is told once the last bytes are taken
        for _ in range(50):
            try:
                await js.publish(subj.event("probe", "counted", "r0"), b"x" * 4096)
                pushed += 1
            except APIError as exc:
                error = str(exc.description)
                break
        kept = (await js.stream_info(PROBE_STREAM)).state.messages
        figures_full = await stage.count(js, SENT)
        began = time.monotonic()
        await js.update_stream(StreamConfig(
            name=PROBE_STREAM, subjects=[subj.events_of("probe")], storage=StorageType.FILE,
            duplicate_window=600.0, max_bytes=-1, discard=DiscardPolicy.NEW))
        figures = await stage.drained(js, SENT, timeout=60)
        figures.emitted -= pushed  # the test's own filler is not the probe's
        figures.extra.update(publish_error=error, in_stream_when_full=kept,
                             waiting_in_outbox=full, effects_when_full=figures_full.effects,
                             drained_after_room_s=round(time.monotonic() - began, 1))
        report("F6 stream full", figures)
        assert "maximum bytes" in error
        assert figures_full.effects == SENT  # the probe went on handling
        assert figures.dead_letters == 0
        assert (figures.effects, figures.emitted, figures.lost) == (SENT, SENT, 0)
        assert figures.extra["outbox_left"] == 0
    finally:
        await nc.close()


async def _outbox_waiting(stage: Stage, js: object) -> int:
    figures = await stage.count(js, SENT)
    waiting = int(figures.extra["outbox_left"])
    return waiting if figures.effects == SENT and waiting > 0 else 0




async def test_a_command_whose_events_cannot_be_published_is_not_answered_as_done(
        stage: Stage) -> None:
    nc = await stage.connect()
    js = nc.jetstream()
    await stage.declare(nc)
    await js.add_stream(_probe_stream(20_000))
    stage.start("probe")
    await stage.until_ready("probe")
    try:
        assert (await _add(nc, "c0", "r1"))["status"] == "ok"  # room: done as usual
        filled = 0
        while True:  # another publisher takes the rest of the stream
            try:
                await js.publish(subj.event("probe", "counted", "r0"), b"x" * 1024)
                filled += 1
            except APIError:
                break
        first = await _add(nc, "c1", "r1")  # committed, but its event cannot go out
        second = await _add(nc, "c2", "r1")
        figures_full = await stage.count(js, 0)
        print(f"\nF6 command: filler={filled} first={first} second={second} "
              f"outbox={figures_full.extra['outbox_left']}", flush=True)
        for reply in (first, second):
            assert reply["status"] == "error", reply  # not answered as done
            assert reply["code"] in ("accepted", "unavailable"), reply
            assert "full" in reply["message"], reply
        # the first was committed (its event waits in the outbox), the second refused
        assert first["code"] == "accepted" and second["code"] == "unavailable"
        assert figures_full.effects == 2 and figures_full.extra["outbox_left"] == 1
        again = await _add(nc, "c1", "r1")  # the first sent again: still not done
        assert again["status"] == "error" and again["code"] == "accepted", again

        await js.update_stream(_probe_stream(-1))
        await eventually(lambda: _outbox_empty(stage, js), timeout=60)
        for command_id, total in (("c1", 2), ("c2", 3)):  # the first: its stored reply
            reply = await _add(nc, command_id, "r1")
            assert reply["status"] == "ok" and reply["total"] == total, reply
        figures = await stage.count(js, 0)
        assert figures.effects == 3 and figures.extra["outbox_left"] == 0
    finally:
        await nc.close()


async def _add(nc: Any, command_id: str, resident: str) -> dict[str, Any]:
    body = msgspec.json.encode(Add(command_id=command_id, resident_id=resident))
    msg = await nc.request(subj.command("probe", "add"), body, timeout=15)
    return msgspec.json.decode(msg.data)  # type: ignore[no-any-return]


async def _outbox_empty(stage: Stage, js: object) -> bool:
    return (await stage.count(js, 0)).extra["outbox_left"] == 0


def _probe_stream(max_bytes: int) -> StreamConfig:
    return StreamConfig(name=PROBE_STREAM, subjects=[subj.events_of("probe")],
                        storage=StorageType.FILE, duplicate_window=600.0,
                        max_bytes=max_bytes, discard=DiscardPolicy.NEW)
