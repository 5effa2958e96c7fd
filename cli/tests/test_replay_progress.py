"""The replay progress `im up` shows: a bar per service from its durable consumers'
backlog on a real nats-server, finishing when the service has worked through it."""

from __future__ import annotations

import asyncio
import io
import uuid
from typing import Any

import pytest
from nats.js.api import AckPolicy, ConsumerConfig
from rich.console import Console

from im_cli import replays
from im_runtime import streams

pytestmark = pytest.mark.integration


class Spec:
    def __init__(self, *sources: str) -> None:
        self.sources = sources

    def source_streams(self) -> dict[str, list[Any]]:
        return {s: [] for s in self.sources}


async def test_a_bar_per_service_until_its_history_is_worked_through(nc):
    source = f"hist{uuid.uuid4().hex[:8]}"
    service = f"svc{uuid.uuid4().hex[:6]}"
    js = nc.jetstream()
    stream = streams.for_source(source, 1, 60.0)
    await js.add_stream(stream)
    for i in range(300):
        await js.publish(f"im.evt.{source}.happened.v1", str(i).encode())
    durable = f"{service}__{source}"
    await js.add_consumer(stream.name, ConsumerConfig(durable_name=durable,
                                                      ack_policy=AckPolicy.EXPLICIT))
    out = io.StringIO()
    watching = asyncio.create_task(replays.watch(
        js, {service: Spec(source)}, poll=0.05,
        console=Console(file=out, force_terminal=False, width=120)))
    sub = await js.pull_subscribe_bind(durable, stream.name)
    for _ in range(6):  # the "service" works through it in batches
        await asyncio.sleep(0.1)
        for msg in await sub.fetch(50, timeout=5):
            await msg.ack()
    assert await asyncio.wait_for(watching, 20) == {service: 300}
    text = out.getvalue()
    assert f"{service}: caught up" in text and "300/300" in text and "100%" in text
    await js.delete_stream(stream.name)


async def test_nothing_is_shown_without_history(nc):
    source = f"empty{uuid.uuid4().hex[:8]}"
    service = f"svc{uuid.uuid4().hex[:6]}"
    js = nc.jetstream()
    stream = streams.for_source(source, 1, 60.0)
    await js.add_stream(stream)
    out = io.StringIO()
    watching = asyncio.create_task(replays.watch(
        js, {service: Spec(source)}, poll=0.05, console=Console(file=out)))
    await asyncio.sleep(0.2)
    assert not watching.done()  # its consumer does not exist yet: the service is starting
    await js.add_consumer(stream.name, ConsumerConfig(durable_name=f"{service}__{source}",
                                                      ack_policy=AckPolicy.EXPLICIT))
    assert await asyncio.wait_for(watching, 10) == {service: 0}
    assert out.getvalue() == ""
    await js.delete_stream(stream.name)
