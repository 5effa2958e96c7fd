"""F1: kill -9 an instance of the probe at random moments while events stream in, two
instances sharing the durable consumer with batches in flight; each killed one starts
again. Every effect exactly once; every emitted event in the stream once."""

from __future__ import annotations

import asyncio
import random
import time

import pytest

from faults.harness import Stage, report

pytestmark = pytest.mark.faults


@pytest.mark.parametrize("sent, kills", [
    pytest.param(2000, 3, marks=pytest.mark.slow),
    pytest.param(10_000, 12, marks=[pytest.mark.slow, pytest.mark.timeout(600)]),
])
async def test_kill_9_at_random_moments(stage: Stage, sent: int, kills: int) -> None:
    nc = await stage.connect()
    js = nc.jetstream()
    await stage.declare(nc)
    names = ["probe-1", "probe-2"]
    for name in names:
        stage.start(name)
    await stage.until_ready(*names)
    rng = random.Random(19)
    began = time.monotonic()
    sending = asyncio.create_task(stage.send(js, sent, pace=0.0005))
    killed: list[str] = []
    try:
        for _ in range(kills):
            await asyncio.sleep(rng.uniform(0.5, 2.5))
            victim = rng.choice(names)
            stage.kill(victim)
            killed.append(victim)
            stage.start(victim)
        await sending
        figures = await stage.drained(js, sent, timeout=min(240, 30 + sent / 50))
        figures.extra.update(instances=2, kills=len(killed),
                             seconds=round(time.monotonic() - began, 1))
        report(f"F1 kill -9 x{len(killed)} during {sent} events", figures)
        assert figures.dead_letters == 0
        assert (figures.effects, figures.emitted, figures.lost) == (sent, sent, 0)
    finally:
        sending.cancel()
        await nc.close()
