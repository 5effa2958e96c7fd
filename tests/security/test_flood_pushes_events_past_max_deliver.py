"""Attack: an operator floods the operators' stream so that counselling goes down with
each batch in hand (a batch of large messages exhausting its memory, say), again and
again. Every message of those batches, other operators' events among them, is delivered
until the durable's `max_deliver`, then JetStream stops delivering it and says so only
in an advisory nobody listened to: the events were dropped silently. Now a service
listens for its durables' MAX_DELIVERIES advisories and dead-letters each such message
with the reason (im_runtime.undelivered); the consumer's own count of attempts never
sees them, since no handler ever ran.

The process that dies with the batch in hand is played by a raw fetch of counselling's
durable that never acknowledges (what a killed process leaves behind)."""

from __future__ import annotations

import asyncio
import json
import uuid

import pytest

from contracts import subjects as subj
from im_cli import natsauth
from im_runtime.undelivered import backstop
from support.attack import Stack, eventually

DURABLE = "counselling__operator"
ACK_WAIT = 1.0
MAX_DELIVER = 1  # attempts the consumer allows; the server's backstop is above it


def event(operator: str, rid: str, pad: int = 0) -> bytes:
    return json.dumps({"specversion": "1.0", "id": uuid.uuid4().hex, "source": operator,
                       "type": "im.operator.session_recorded.v1", "subject": rid,
                       "data": {"pad": "x" * pad}}).encode()


@pytest.mark.flow
async def test_events_a_flood_pushes_past_max_deliver_end_as_dead_letters(
        stack: Stack) -> None:
    limit = backstop(MAX_DELIVER)
    async with stack.services("counselling", ack_wait=ACK_WAIT, max_deliver=MAX_DELIVER):
        pass  # its durable, as this configuration declares it
    async with stack.as_user(natsauth.ADMIN) as admin:
        info = await admin.js.consumer_info(subj.OPS_STREAM, DURABLE)
        assert info.config.max_deliver == limit > 0
        # Whatever earlier tests left pending goes first (it is nobody's concern here).
        crashed = await admin.js.pull_subscribe_bind(DURABLE, subj.OPS_STREAM)
        while True:
            try:
                for m in await crashed.fetch(1000, timeout=0.5):
                    await m.ack()
            except TimeoutError:
                break
        # op-a floods; op-b's events arrive in between.
        victims: dict[str, int] = {}
        async with stack.as_user(natsauth.operator_user("op-a")) as op_a, \
                stack.as_user(natsauth.operator_user("op-b")) as op_b:
            for i in range(60):
                await op_a.js.publish(f"im.ops.op-a.session_recorded.r-flood{i}",
                                      event("op-a", f"r-flood{i}", pad=60_000), timeout=5)
                if i % 12 == 0:
                    rid = f"r-{uuid.uuid4().hex[:10]}"
                    ack = await op_b.js.publish(f"im.ops.op-b.session_recorded.{rid}",
                                                event("op-b", rid), timeout=5)
                    victims[rid] = ack.seq
        # Counselling takes the batch and dies with it, `limit` times over.
        delivered: dict[int, int] = {}
        for _ in range(limit):
            for m in await crashed.fetch(1000, timeout=ACK_WAIT * 3):
                delivered[m.metadata.sequence.stream] = m.metadata.num_delivered
            await asyncio.sleep(ACK_WAIT + 0.3)  # ack_wait passes: nothing was answered
        assert all(delivered.get(seq) == limit for seq in victims.values()), delivered
        await crashed.unsubscribe()

    # Counselling comes back: the server stops delivering those messages and tells it.
    async with stack.services("counselling", ack_wait=ACK_WAIT, max_deliver=MAX_DELIVER), \
            stack.as_user(natsauth.ADMIN) as admin:
        async def letter(rid: str) -> dict | None:
            try:
                raw = await admin.js.get_msg(subj.DLQ_STREAM,
                                             subject=subj.dead_letter("counselling", rid))
            except Exception:
                return None
            return json.loads(raw.data)

        for rid, seq in victims.items():
            dead = await eventually(lambda rid=rid: letter(rid), timeout=20)
            assert dead is not None, f"op-b's event {rid} was dropped silently"
            assert dead["reason"].startswith("undelivered: JetStream stopped delivering it "
                                             f"after {limit} deliveries"), dead
            assert (dead["stream"], dead["stream_seq"]) == (subj.OPS_STREAM, seq)
            assert dead["subject"] == f"im.ops.op-b.session_recorded.{rid}"
            assert dead["body_encoding"] == "redacted"  # counselling's rule for its letters
        info = await admin.js.consumer_info(subj.OPS_STREAM, DURABLE)
        assert info.num_ack_pending == 0 and info.num_pending == 0
        # The flood itself was dead-lettered the same way, once per message.
        flood = await eventually(lambda: letter("r-flood59"), timeout=10)
        assert flood is not None and flood["stream_seq"] > 0
