"""Attack: an operator floods the operators' stream with large events so that counselling
takes them in one batch and runs out of memory. A pull request asked for up to a batch
of messages whatever their size (256 of 64 KiB is 16 MiB decoded at once, and more in
hand while the next batch is fetched ahead). Now every fetch carries `max_bytes`
(IM_FETCH_MAX_BYTES, im_runtime.transport.puller): the server ends a batch at that size."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest

from contracts import subjects as subj
from im_cli import natsauth
from im_runtime.transport.puller import Puller
from support.attack import Stack, eventually

DURABLE = "counselling__operator"
BOUND = 128 * 1024
EVENTS, SIZE = 40, 60_000


def event(rid: str) -> bytes:
    return json.dumps({"specversion": "1.0", "id": uuid.uuid4().hex, "source": "op-a",
                       "type": "im.operator.session_recorded.v1", "subject": rid,
                       "data": {"pad": "x" * SIZE}}).encode()


@pytest.mark.flow
async def test_a_flood_of_large_events_reaches_counselling_in_batches_bounded_in_bytes(
        stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    async with stack.services("counselling"):
        pass  # its durable exists
    taken: list[int] = []
    fetch = Puller.fetch

    async def watched(self: Puller, batch: int, wait: float) -> list[Any]:
        msgs = await fetch(self, batch, wait)
        if self._next.endswith(f".{DURABLE}"):
            taken.append(sum(len(m.data) for m in msgs))
        return msgs

    monkeypatch.setattr(Puller, "fetch", watched)
    async with stack.as_user(natsauth.ADMIN) as admin:
        crashed = await admin.js.pull_subscribe_bind(DURABLE, subj.OPS_STREAM)
        while True:  # whatever earlier tests left pending goes first
            try:
                for m in await crashed.fetch(1000, timeout=0.5):
                    await m.ack()
            except TimeoutError:
                break
        await crashed.unsubscribe()
        async with stack.as_user(natsauth.operator_user("op-a")) as op_a:
            for i in range(EVENTS):
                await op_a.js.publish(f"im.ops.op-a.session_recorded.r-big{i}",
                                      event(f"r-big{i}"), timeout=5)

        async def worked_through() -> bool:
            info = await admin.js.consumer_info(subj.OPS_STREAM, DURABLE)
            return info.num_pending == 0 and info.num_ack_pending == 0

        async with stack.services("counselling", fetch_max_bytes=BOUND, batch_size=256):
            assert await eventually(worked_through, timeout=60)
    assert sum(taken) >= EVENTS * SIZE
    assert max(taken) <= BOUND, f"one batch held {max(taken)} bytes"
