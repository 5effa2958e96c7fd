"""F4: the database stops mid-stream (SIGSTOP for 30 s; killed and started again on the
same files after 10 s and after 90 s): the probe holds its batches, answers 503 on
/ready meanwhile, and carries on by itself: no dead letters, nothing lost, nothing
twice."""

from __future__ import annotations

import asyncio
import signal
import time

import pytest

from faults.harness import Stage, report
from im_cli.testing import eventually

pytestmark = pytest.mark.faults

SENT = 1500


async def not_ready(stage: Stage) -> bool:
    return await stage.ready("probe") == 503


@pytest.mark.parametrize("how, seconds", [
    ("kill", 10),
    pytest.param("sigstop", 30, marks=[pytest.mark.slow, pytest.mark.timeout(300)]),
    pytest.param("kill", 90, marks=[pytest.mark.slow, pytest.mark.timeout(400)]),
])
async def test_database_outage_mid_stream(stage: Stage, how: str, seconds: int) -> None:
    nc = await stage.connect()
    js = nc.jetstream()
    await stage.declare(nc)
    stage.start("probe")
    await stage.until_ready("probe")
    sending = asyncio.create_task(stage.send(js, SENT, pace=0.004))
    try:
        await eventually(lambda: _handled_some(stage, js), timeout=30)
        began = time.monotonic()
        if how == "sigstop":
            stage.signal_mongo(signal.SIGSTOP)
            await eventually(lambda: not_ready(stage), timeout=15, interval=0.2)
            noticed = time.monotonic() - began
            await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))
            stage.signal_mongo(signal.SIGCONT)
        else:
            stage.kill_mongo()
            await eventually(lambda: not_ready(stage), timeout=15, interval=0.2)
            noticed = time.monotonic() - began
            await asyncio.sleep(max(0.0, seconds - (time.monotonic() - began)))
            stage.start_mongo()
        back = time.monotonic()
        recovered = await stage.until_ready("probe", timeout=60)
        await sending
        figures = await stage.drained(js, SENT, timeout=120)
        figures.extra.update(outage=how, outage_s=round(back - began, 1),
                             not_ready_after_s=round(noticed, 1),
                             ready_again_after_s=round(recovered, 1),
                             service_exits=int(stage.children["probe"].poll() is not None))
        report(f"F4 database {how} {seconds}s", figures)
        assert figures.dead_letters == 0
        assert (figures.effects, figures.emitted, figures.lost) == (SENT, SENT, 0)
        assert stage.children["probe"].poll() is None  # it waited; it did not die
    finally:
        sending.cancel()
        await nc.close()


async def _handled_some(stage: Stage, js: object) -> bool:
    figures = await stage.count(js, 0)
    return figures.effects >= 100
