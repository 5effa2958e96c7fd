"""F2: nats-server stops (kill -9) for 5 s, and for 150 s (longer than the two minutes
FastStream's default reconnect budget lasts), while events and commands flow; it starts
again on the same store. The probe must be ready again by itself, nothing lost."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import msgspec
import pytest

from contracts import subjects as subj
from faults.harness import Stage, report
from im_cli.testing import eventually
from support.probe import Add

pytestmark = pytest.mark.faults

PINGS, COMMANDS = 1000, 100


async def send_commands(nc: Any, n: int, patience: float) -> int:
    """`add` commands, each retried with its command id until it is answered (or for
    `patience` seconds: then the rest are given up). How many were answered."""
    answered = 0
    for i in range(n):
        body = msgspec.json.encode(Add(resident_id=f"r{i % 50}", by=1, command_id=f"cmd-{i}"))
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            try:
                reply = await nc.request(subj.command("probe", "add"), body, timeout=2)
            except Exception:
                await asyncio.sleep(0.2)
                continue
            assert msgspec.json.decode(reply.data)["status"] == "ok", reply.data
            answered += 1
            break
        else:
            return answered
        await asyncio.sleep(0.02)
    return answered


@pytest.mark.parametrize("seconds", [
    pytest.param(5, marks=pytest.mark.slow),
    pytest.param(150, marks=[pytest.mark.slow, pytest.mark.timeout(600)]),
])
async def test_nats_outage_while_events_and_commands_flow(stage: Stage, seconds: int) -> None:
    nc = await stage.connect()
    js = nc.jetstream()
    await stage.declare(nc)
    stage.start("probe")
    await stage.until_ready("probe")
    sending = asyncio.gather(stage.send(js, PINGS, pace=0.004),
                             send_commands(nc, COMMANDS, patience=seconds + 60))
    try:
        await asyncio.sleep(1.0)
        stage.kill_nats()
        began = time.monotonic()
        await eventually(lambda: _is(stage.ready("probe"), 503), timeout=10, interval=0.2)
        await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))
        stage.start_nats()
        recovered = await stage.until_ready("probe", timeout=60)
        _, answered = await sending
        figures = await stage.drained(js, PINGS + COMMANDS, timeout=90)
        figures.extra.update(outage_s=seconds, ready_again_after_s=round(recovered, 1),
                             commands_answered=answered,
                             service_exits=int(stage.children["probe"].poll() is not None))
        report(f"F2 NATS down {seconds}s", figures)
        assert figures.dead_letters == 0 and answered == COMMANDS
        assert (figures.effects, figures.emitted, figures.lost) == (
            PINGS + COMMANDS, PINGS + COMMANDS, 0)
        assert stage.children["probe"].poll() is None  # no restart was needed
    finally:
        sending.cancel()
        await nc.close()


async def _is(value: Any, want: Any) -> bool:
    return (await value) == want
