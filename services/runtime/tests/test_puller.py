"""Pull requests on the real server: what is pending comes at once, a quiet stream is
waited on for `wait` seconds, and a refusal is named."""

import asyncio

import pytest
from nats.js.api import ConsumerConfig, StreamConfig

from im_runtime.transport.puller import Puller

pytestmark = pytest.mark.integration

@pytest.fixture
async def durable(nc, test_id):
    js = nc.jetstream()
    stream, prefix = f"PULL_{test_id}", f"pull.{test_id}"
    await js.add_stream(StreamConfig(name=stream, subjects=[f"{prefix}.>"]))
    await js.add_consumer(stream, ConsumerConfig(durable_name="d", ack_wait=30))
    yield js, stream, prefix
    await js.delete_stream(stream)


async def test_puller_returns_what_is_pending_at_once_and_waits_for_the_next(nc, durable):
    js, stream, prefix = durable
    for i in range(5):
        await js.publish(f"{prefix}.{i}", str(i).encode())
    puller = Puller(nc, stream, "d")
    await puller.start()
    try:
        first = await puller.fetch(3, wait=5.0)
        rest = await puller.fetch(10, wait=5.0)  # fewer than asked: no waiting for more
        assert [m.data for m in first + rest] == [b"0", b"1", b"2", b"3", b"4"]
        assert [m.subject for m in first] == [f"{prefix}.{i}" for i in range(3)]
        for m in first + rest:
            await m.ack()
        started = asyncio.get_running_loop().time()
        assert await puller.fetch(10, wait=0.3) == []  # nothing: waited `wait`, no error
        assert 0.25 < asyncio.get_running_loop().time() - started < 3
        assert puller.problem is None
        later = asyncio.create_task(puller.fetch(10, wait=5.0))
        await asyncio.sleep(0.2)
        await js.publish(f"{prefix}.late", b"late")
        [msg] = await asyncio.wait_for(later, 2)  # as soon as it arrives
        assert msg.data == b"late" and msg.metadata.num_delivered == 1
        await msg.ack()
    finally:
        await puller.stop()


async def test_puller_names_a_refusal(nc, durable):
    _, stream, _ = durable
    puller = Puller(nc, stream, "no-such-durable")
    await puller.start()
    try:
        assert await puller.fetch(10, wait=1.0) == []
        assert puller.problem is not None and puller.problem.startswith("503")  # no responders
    finally:
        await puller.stop()
