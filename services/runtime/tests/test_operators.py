"""Operators' events: the trust boundary, the size limit and feedback subjects."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from nats.js.errors import BadRequestError

from contracts import subjects as subj
from contracts import wrap
from contracts.platform import DeadLetter
from im_runtime.service import ServiceRuntime
from support.probe import Noted, spec

pytestmark = pytest.mark.integration


@pytest.fixture
async def probe(settings):
    rt = ServiceRuntime(spec, settings)
    await rt.start()
    yield rt
    await rt.stop()


async def publish(js, operator: str, rid: str, source: str, body: bytes | None = None) -> str:
    event = wrap(Noted(resident_id=rid, text="x"), source=source)
    await js.publish(subj.operator_event(operator, "noted", rid),
                     body if body is not None else msgspec.json.encode(event),
                     headers={"Nats-Msg-Id": event.id})
    return event.id




async def next_dead(sub, event_id: str) -> DeadLetter:
    while True:
        msg = await sub.next_msg(timeout=10)
        dead = msgspec.json.decode(msg.data, type=DeadLetter)
        if event_id in dead.body or event_id in dead.headers.get("Nats-Msg-Id", ""):
            return dead


async def test_an_operator_event_is_stored_and_answered_on_its_feedback_subject(probe, nc,
                                                                               test_id):
    js = nc.jetstream()
    rid = f"r{test_id}"
    feedback = await js.subscribe(subj.feedback("op-a", "note_seen", rid), ordered_consumer=True)
    event_id = await publish(js, "op-a", rid, source="op-a")
    msg = await feedback.next_msg(timeout=10)
    answer = msgspec.json.decode(msg.data)
    assert answer["data"]["operator_id"] == "op-a"
    # the type goes out once, in the envelope (contracts.codec)
    assert answer["type"].endswith(".note_seen.v1") and "type" not in answer["data"]
    assert await probe.store.db["notes"].find_one({"_id": event_id}) is not None


@pytest.mark.parametrize("data_type", ["in the envelope only", "in both"])
async def test_the_event_type_is_read_from_the_envelope(probe, nc, test_id, data_type):
    """Operators need not repeat the type inside `data`; where they do, it is checked."""
    js = nc.jetstream()
    rid = f"r{test_id}"
    event = msgspec.to_builtins(wrap(Noted(resident_id=rid, text="x"), source="op-a"))
    if data_type == "in the envelope only":
        del event["data"]["type"]
    await js.publish(subj.operator_event("op-a", "noted", rid), msgspec.json.encode(event),
                     headers={"Nats-Msg-Id": event["id"]})
    for _ in range(100):
        if await probe.store.db["notes"].find_one({"_id": event["id"]}) is not None:
            break
        await asyncio.sleep(0.1)
    assert await probe.store.db["notes"].find_one({"_id": event["id"]}) is not None


async def test_oversize_operator_events_are_refused_by_the_operators_stream(probe, nc, test_id):
    """IM_OPS takes at most 64 KiB a message (streams.OPS_MAX_MSG_SIZE): the operator's
    publish fails with the reason and nothing reaches the service."""
    js = nc.jetstream()
    rid = f"r{test_id}"
    event = wrap(Noted(resident_id=rid, text="y" * 70_000), source="op-a")
    with pytest.raises(BadRequestError, match="message size exceeds maximum"):
        await publish(js, "op-a", rid, "op-a", msgspec.json.encode(event))
    assert await probe.store.db["notes"].count_documents({"resident_id": rid}) == 0


@pytest.mark.parametrize("case", ["other_source", "other_resident"])
async def test_untrusted_operator_events_are_dead_lettered(probe, nc, test_id, case):
    js = nc.jetstream()
    rid = f"r{test_id}"
    sub = await js.subscribe(subj.dead_letters_of("probe"), ordered_consumer=True,
                             deliver_policy="new")
    if case == "other_source":  # operator A publishing as operator B
        event_id = await publish(js, "op-a", rid, source="op-b")
        fragment = "subject is for operator 'op-a' but the event's source is 'op-b'"
    elif case == "other_resident":
        event = wrap(Noted(resident_id="someone-else"), source="op-a")
        event_id = await publish(js, "op-a", rid, "op-a", msgspec.json.encode(event))
        fragment = "subject names resident"
    else:
        raise AssertionError(case)
    dead = await next_dead(sub, event_id)
    assert fragment in dead.reason
    assert await probe.store.db["notes"].count_documents({"resident_id": rid}) == 0
