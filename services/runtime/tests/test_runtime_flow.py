"""The runtime's guarantees, with the real NATS and MongoDB-wire servers."""

from __future__ import annotations

import dataclasses

import msgspec
import pytest

from contracts import ErrorReply, wrap
from contracts import subjects as subj
from im_cli.testing import eventually
from im_runtime.service import ServiceRuntime
from support.probe import Add, Pinged, Seen, Total, spec

pytestmark = pytest.mark.integration


async def publish(js, data, **kw):
    event = wrap(data, source="tester", **kw)
    await js.publish(subj.event("tester", "pinged", data.resident_id),
                     msgspec.json.encode(event), headers={"Nats-Msg-Id": event.id})
    return event


async def total(rt: ServiceRuntime, rid: str) -> int:
    doc = await rt.store.db["counters"].find_one({"_id": rid})
    return doc["total"] if doc else 0


@pytest.fixture
async def probe(settings):
    rt = ServiceRuntime(spec, settings)
    await rt.start()
    yield rt
    await rt.stop()


async def test_event_is_handled_and_its_effect_published(probe, nc, test_id):
    js = nc.jetstream()
    await probe.store.db["counters"].find_one({})
    sub = await js.subscribe(subj.event("probe", "counted", f"r{test_id}"), ordered_consumer=True)
    await publish(js, Pinged(resident_id=f"r{test_id}", by=3))
    msg = await sub.next_msg(timeout=10)
    body = msgspec.json.decode(msg.data)
    assert body["type"] == "im.probe.counted.v1"
    assert body["data"]["total"] == 3
    assert msg.headers["Nats-Msg-Id"] == body["id"]


async def test_duplicate_event_ids_have_one_effect(probe, nc, test_id):
    js = nc.jetstream()
    rid = f"r{test_id}"
    event = wrap(Pinged(resident_id=rid, by=5), source="tester")
    body = msgspec.json.encode(event)
    # Different Nats-Msg-Id so the stream keeps both: the consumer must dedupe itself.
    subject = subj.event("tester", "pinged", rid)
    await js.publish(subject, body, headers={"Nats-Msg-Id": "a" + event.id})
    await js.publish(subject, body, headers={"Nats-Msg-Id": "b" + event.id})
    await publish(js, Pinged(resident_id=rid, by=1))
    await eventually(lambda: probe.metrics.duplicates.labels("probe")._value.get() >= 1)
    # 5, 5, 6 when the copy is dropped (5, 10, 11 if not): wait for the third event too,
    # which may still be on its way when the copy is counted (a flake under load).
    await eventually(lambda: _is(total(probe, rid), 6), timeout=10)


async def test_idempotent_routes_store_no_processed_ids(probe, nc, test_id):
    """A route declared idempotent: the same fact twice (two stream messages) and an older
    one after it leave the latest, and no processed id is written for them; one whose
    handler emitted an event keeps its id, so a redelivery does not emit again."""
    js = nc.jetstream()
    rid = f"s{test_id}"
    late, early = (wrap(Seen(resident_id=rid, at=at), source="tester") for at in (5, 3))
    announced = wrap(Seen(resident_id=f"{rid}-x", at=1, announce=True), source="tester")
    for event, copy in ((late, "a"), (early, "a"), (late, "b"), (announced, "a")):
        await js.publish(subj.event("tester", "seen", event.data.resident_id),
                         msgspec.json.encode(event), headers={"Nats-Msg-Id": copy + event.id})
    ping = await publish(js, Pinged(resident_id=rid))  # the same consumer, so handled last
    await eventually(lambda: _is(total(probe, rid), 1), timeout=10)
    seen = await probe.store.db["seen"].find_one({"_id": rid})
    assert seen["last"] == 5
    stored = await probe.store.processed_ids([late.id, early.id, announced.id, ping.id])
    assert set(stored) == {announced.id, ping.id}


async def test_command_replies_and_is_idempotent(probe, nc, test_id):
    cmd = Add(resident_id=f"c{test_id}", by=2)
    first = await nc.request(subj.command("probe", "add"), msgspec.json.encode(cmd), timeout=5)
    again = await nc.request(subj.command("probe", "add"), msgspec.json.encode(cmd), timeout=5)
    reply = msgspec.json.decode(first.data, type=Total | ErrorReply)
    assert reply == Total(resident_id=f"c{test_id}", total=2)
    assert again.data == first.data
    assert await total(probe, f"c{test_id}") == 2


@pytest.mark.parametrize("body, fragment", [
    (b"{not json", "invalid add"),
    (b'{"resident_id": 5}', "Expected `str`"),
    (b'{"by": 1}', "missing required field `resident_id`"),
    (b'{"resident_id": "x", "by": -1}', "by must be positive"),
    (b'{"resident_id": "' + b"x" * 300_000 + b'"}', "exceeds the limit"),
])
async def test_bad_commands_get_clear_errors(probe, nc, body, fragment):
    msg = await nc.request(subj.command("probe", "add"), body, timeout=5)
    reply = msgspec.json.decode(msg.data, type=Total | ErrorReply)
    assert isinstance(reply, ErrorReply)
    assert reply.code == "bad_request"
    assert fragment in reply.message


async def test_consecutive_batches_on_the_same_documents_add_up(settings, nc, test_id):
    """Small batches, each prepared while the one before commits, all on five counters:
    every ping counted once."""
    rt = ServiceRuntime(spec, dataclasses.replace(settings, batch_size=8))
    await rt.start()
    try:
        js = nc.jetstream()
        rids = [f"p{test_id}-{i}" for i in range(5)]
        for i in range(200):
            await publish(js, Pinged(resident_id=rids[i % 5], by=1))
        for rid in rids:
            await eventually(lambda rid=rid: _is(total(rt, rid), 40), timeout=30)
        assert rt.metrics.duplicates.labels("probe")._value.get() == 0
    finally:
        await rt.stop()


async def _is(value, want) -> bool:
    return await value == want
