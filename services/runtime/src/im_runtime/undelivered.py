"""Messages JetStream stopped delivering become dead letters, with the reason.

The consumer counts its own attempts and dead-letters what keeps failing (consume.py).
What it cannot count is a message that never reaches a handler: one whose batch takes
the process down before its attempt is recorded (a flood that exhausts memory while a
batch is decoded, a crash while the database is away), delivered again and again. So
each durable has a server-side `max_deliver` as a backstop, well above the attempts the
consumer allows; when a message reaches it, nats-server stops delivering it and says so
only in the advisory `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<durable>`.
Every instance listens for its durables' advisories (one of them, a queue group, takes
each), fetches the message by its stream sequence and publishes it, raw (nothing
decoded), as a dead letter under the same id the consumer would use, so it is
dead-lettered once, whoever gets there first.

Fetching by sequence with `$JS.API.STREAM.MSG.GET` would let a service read any message
of every stream it consumes (only privacy may: tests/infra). So it reads through a
consumer of its own, `<durable>_dl`, with exactly its durable's filter (the permission
names it, as for the durable), starting at that sequence; one message, then deleted.

The advisory is core NATS: sent when the server looks for the next message for a
waiting fetch, that is while an instance runs, whose listener subscribed before its
first fetch (service.py)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.errors import NotFoundError

from im_runtime.deadletter import DeadLetters, stored_letter
from im_runtime.pipeline.events import ISOLATE_FROM

log = logging.getLogger("im.undelivered")
ADVISORY = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
RETRIES = 5


def backstop(max_deliver: int) -> int:
    """The durable's server-side max_deliver: above every delivery the consumer itself
    accounts for (ISOLATE_FROM before a message is handled alone, then its attempts), with
    room for the deliveries a process that died with a batch in hand costs the rest."""
    return 2 * max_deliver + ISOLATE_FROM


def advisory(stream: str, durable: str) -> str:
    return f"{ADVISORY}.{stream}.{durable}"


def reader(durable: str) -> str:
    """The consumer that reads one undelivered message of `durable` (same filter)."""
    return f"{durable}_dl"


class Undelivered:
    def __init__(self, nc: Any, js: Any, service: str, dead: DeadLetters,
                 durables: list[tuple[str, ConsumerConfig]]) -> None:
        self._nc, self._js, self._service, self._dead = nc, js, service, dead
        self._configs = {(stream, c.durable_name or ""): c for stream, c in durables}
        self._subs: list[Any] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        for stream, durable in self._configs:
            self._subs.append(await self._nc.subscribe(
                advisory(stream, durable), queue=f"{self._service}.undelivered",
                cb=self._on_advisory))

    async def stop(self) -> None:
        for sub in self._subs:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2.0)

    async def _on_advisory(self, msg: Any) -> None:
        # The callback returns at once: fetching and publishing may wait for the bus.
        task = asyncio.create_task(self._dead_letter(msg.data))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _dead_letter(self, data: bytes) -> None:
        try:
            body = json.loads(data)
            stream, seq = str(body["stream"]), int(body["stream_seq"])
            durable, deliveries = str(body["consumer"]), int(body.get("deliveries") or 0)
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable max-deliveries advisory", extra={"service": self._service})
            return
        config = self._configs.get((stream, durable))
        if config is None:
            return
        for attempt in range(RETRIES):
            try:
                async with self._lock:  # one reading consumer per durable at a time
                    msg = await self._fetch(stream, config, seq)
                if msg is None:  # erased, or removed by retention, in the meantime
                    log.info("an undelivered message is no longer in its stream",
                             extra={"service": self._service, "stream": stream})
                    return
                dead = stored_letter(
                    self._service, msg.subject, msg.data or b"", msg.headers,
                    f"undelivered: JetStream stopped delivering it after {deliveries} "
                    "deliveries without an answer (the process ended or stalled with it in "
                    "hand each time)", stream=stream, seq=seq, deliveries=deliveries,
                    redact=self._dead.redact)
                await self._dead.publish(dead, "undelivered")
                return
            except Exception as exc:
                if attempt == RETRIES - 1:
                    log.error("could not dead-letter an undelivered message: %s", exc,
                              extra={"service": self._service, "stream": stream,
                                     "stream_seq": seq})
                    return
                await asyncio.sleep(0.5 * 2 ** attempt)

    async def _fetch(self, stream: str, durable: ConsumerConfig, seq: int) -> Any:
        """The message at `seq`, through a consumer with the durable's filter."""
        name = reader(durable.durable_name or "")
        with contextlib.suppress(NotFoundError):  # one left by an instance that died
            await self._js.delete_consumer(stream, name)
        await self._js.add_consumer(stream, ConsumerConfig(
            name=name, filter_subject=durable.filter_subject,
            filter_subjects=durable.filter_subjects, deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=seq, ack_policy=AckPolicy.NONE, inactive_threshold=60.0))
        # A fetched message arrives under its stream subject, not the request's reply
        # subject, so nats-py's request() would not know it for the answer: a
        # subscription of its own takes it (as pull.py's Puller does).
        inbox = self._nc.new_inbox()
        sub = await self._nc.subscribe(inbox, max_msgs=1)
        try:
            await self._nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}",
                                   json.dumps({"batch": 1, "no_wait": True}).encode(),
                                   reply=inbox)
            msg = await sub.next_msg(timeout=5)
            status = (msg.headers or {}).get("Status")
            meta = msg.metadata if not status else None
            return msg if meta is not None and meta.sequence.stream == seq else None
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            with contextlib.suppress(Exception):
                await self._js.delete_consumer(stream, name)
