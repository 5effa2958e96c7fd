"""Attack (or plain bad luck): a message reaches its durable's `max_deliver` while no
instance of the service is there to hear JetStream's MAX_DELIVERIES advisory.

The advisory is core NATS, sent once, when the server next looks for a message for a
fetch. Counselling's process is killed (SIGKILL) with a batch in hand, again and again
(a raw fetch that never acknowledges plays the dying process, as in
test_flood_pushes_events_past_max_deliver), and the fetch that makes the server give up
on op-b's event comes while no counselling process runs: the advisory went to nobody,
and the event was never dead-lettered. Now the advisories are kept in the stream
IM_UNDELIVERED and counselling's durable there hands this one over when it comes back."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from contracts import subjects as subj
from im_cli import natsauth
from im_cli.embedded import free_port
from im_runtime.actors import service_key
from im_runtime.streams import UNDELIVERED_STREAM
from im_runtime.undelivered import advisory, backstop
from support.attack import Stack, eventually

SERVICE = "counselling"
DURABLE = "counselling__operator"
ACK_WAIT = 1.0
MAX_DELIVER = 1


@pytest.fixture
def child(stack: Stack, tmp_path: Path) -> Iterator[Any]:
    """Start counselling as a real process under its own NATS user; ready when it answers."""
    procs: list[subprocess.Popen[bytes]] = []
    user = natsauth.service_user(SERVICE)

    def launch() -> tuple[subprocess.Popen[bytes], int, Path]:
        port, log = free_port(), tmp_path / f"{SERVICE}-{len(procs)}.log"
        env = {**os.environ, "IM_NATS_URL": stack.nats.url, "IM_MONGO_URL": stack.mongo_url,
               "IM_DB_PREFIX": stack.prefix, "IM_NATS_USER": user,
               "IM_NATS_PASSWORD": stack.auth.passwords[user],
               "IM_ACTOR_KEY": service_key(stack.secret, SERVICE).hex(),
               "IM_ERASURE_SECRET": stack.erasure_secret.hex(), "IM_HEALTH_PORT": str(port),
               "IM_ACK_WAIT": str(ACK_WAIT), "IM_MAX_DELIVER": str(MAX_DELIVER),
               "IM_RETRY_BACKOFF": "0.05", "IM_LOG_FORMAT": "text"}
        with open(log, "ab") as out:
            proc = subprocess.Popen([sys.executable, "-m", "im_cli.main", "run", SERVICE],
                                    env=env, stdout=out, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc, port, log

    async def start() -> subprocess.Popen[bytes]:
        proc, port, log = launch()

        async def ready() -> bool:
            assert proc.poll() is None, log.read_text()[-2000:]
            try:
                async with httpx.AsyncClient() as client:
                    return (await client.get(f"http://127.0.0.1:{port}/ready")).status_code == 200
            except httpx.HTTPError:
                return False

        assert await eventually(ready, timeout=60, interval=0.2), "counselling not ready"
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
            proc.wait(15)


@pytest.mark.flow
async def test_a_message_given_up_while_the_service_is_down_is_dead_lettered_when_it_returns(
        stack: Stack, child: Any) -> None:
    limit = backstop(MAX_DELIVER)
    first = await child()  # its durables (and their advisories' durables) as declared
    first.send_signal(signal.SIGKILL)
    first.wait(10)

    rid = f"r-{uuid.uuid4().hex[:10]}"
    async with stack.as_user(natsauth.ADMIN) as admin:
        crashed = await admin.js.pull_subscribe_bind(DURABLE, subj.OPS_STREAM)
        while True:  # whatever earlier tests left pending goes first
            try:
                for m in await crashed.fetch(1000, timeout=0.5):
                    await m.ack()
            except TimeoutError:
                break
        async with stack.as_user(natsauth.operator_user("op-b")) as op_b:
            event = {"specversion": "1.0", "id": uuid.uuid4().hex, "source": "op-b",
                     "type": "im.operator.session_recorded.v1", "subject": rid, "data": {}}
            ack = await op_b.js.publish(f"im.ops.op-b.session_recorded.{rid}",
                                        json.dumps(event).encode(), timeout=5)
        # Counselling dies with it in hand, `limit` times over.
        for _ in range(limit):
            delivered = await crashed.fetch(10, timeout=ACK_WAIT * 3)
            assert [m.metadata.sequence.stream for m in delivered] == [ack.seq]
            await asyncio.sleep(ACK_WAIT + 0.3)  # nothing answered: ack_wait passes
        # The next fetch makes the server give up on it, while no counselling runs.
        with pytest.raises(TimeoutError):
            await crashed.fetch(10, timeout=ACK_WAIT * 2)
        await crashed.unsubscribe()
        kept = await eventually(lambda: _advisory(admin), timeout=5)
        assert kept is not None and kept["stream_seq"] == ack.seq, kept

        second = await child()  # counselling comes back
        assert second.poll() is None

        async def letter() -> dict[str, Any] | None:
            try:
                raw = await admin.js.get_msg(subj.DLQ_STREAM,
                                             subject=subj.dead_letter(SERVICE, rid))
            except Exception:
                return None
            return json.loads(raw.data)  # type: ignore[no-any-return]

        dead = await eventually(letter, timeout=20)
        assert dead is not None, f"op-b's event {rid} was dropped silently"
        assert dead["reason"].startswith(
            f"undelivered: JetStream stopped delivering it after {limit} deliveries"), dead
        assert (dead["stream"], dead["stream_seq"]) == (subj.OPS_STREAM, ack.seq)
        # Taken: the work queue no longer holds it.
        assert await eventually(lambda: _taken(admin, ack.seq), timeout=10)


async def _advisory(admin: Any) -> dict[str, Any] | None:
    try:
        raw = await admin.js.get_msg(UNDELIVERED_STREAM,
                                     subject=advisory(subj.OPS_STREAM, DURABLE))
    except Exception:
        return None
    return json.loads(raw.data)  # type: ignore[no-any-return]


async def _taken(admin: Any, seq: int) -> bool:
    left = await _advisory(admin)  # (another test's may still wait there)
    return left is None or left["stream_seq"] != seq
