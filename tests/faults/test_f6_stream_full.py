"""F6: the probe's event stream reaches its limit (max_bytes, discard new, as an operator
sets limits on an event log): publishers get a clear error; what the probe committed
waits in its outbox (nothing dropped), and goes out by itself once there is room."""

from __future__ import annotations

import time

import pytest
from nats.js.api import DiscardPolicy, StorageType, StreamConfig
from nats.js.errors import APIError

from contracts import subjects as subj
from faults.harness import PROBE_STREAM, Stage, report
from im_cli.testing import eventually

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


