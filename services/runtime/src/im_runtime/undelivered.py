"""Messages JetStream stopped delivering become dead letters, with the reason.

The consumer counts its own attempts and dead-letters what keeps failing (consume.py).
What it cannot count is a message that never reaches a handler: one whose batch takes
the process down before its attempt is recorded (a flood that exhausts memory while a
batch is decoded, a crash while the database is away), delivered again and again. So
each durable has a server-side `max_deliver` as a backstop, well above the attempts the
consumer allows; when a message reaches it, nats-server stops delivering it and says so
only in the advisory `$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES.<stream>.<durable>`.

That advisory is sent once, when the server next looks for a message for a waiting
fetch, and a core subscriber that is not there (every instance down, or the one that
took it dying before the dead letter was out) loses it. So the advisories are kept in
the work-queue stream `IM_UNDELIVERED` (streams.undelivered_stream), and each durable
has a companion durable `<durable>_adv` there with exactly its own advisories as filter.
An instance takes an advisory, fetches the message by its stream sequence, publishes it,
raw (nothing decoded), as a dead letter under the same id the consumer would use (so it
is dead-lettered once, whoever gets there first), and only then acknowledges the
advisory; an instance that dies before leaves it to the next.

Fetching by sequence with `$JS.API.STREAM.MSG.GET` would let a service read any message
of every stream it consumes (only privacy may: tests/infra). So it reads through a
consumer of its own, `<durable>_dl`, with one of its durable's filters (the permission
names each, as for the durable), starting at that sequence; one message, then deleted."""

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
from im_runtime.streams import MAX_DELIVERIES, UNDELIVERED_STREAM
from im_runtime.transport.puller import Puller

log = logging.getLogger("im.undelivered")
ADVISORY = MAX_DELIVERIES
RETRIES = 5


def backstop(max_deliver: int) -> int:
    """The durable's server-side max_deliver: above every delivery the consumer itself
    accounts for (ISOLATE_FROM before a message is handled alone, then its attempts), with
    room for the deliveries a process that died with a batch in hand costs the rest."""
    return 2 * max_deliver + ISOLATE_FROM


def advisory(stream: str, durable: str) -> str:
    return f"{ADVISORY}.{stream}.{durable}"


def reader(durable: str) -> str:
    """The consumer that reads one undelivered message of `durable` (one of its filters)."""
    return f"{durable}_dl"


def watcher(durable: str) -> str:
    """The durable on IM_UNDELIVERED that takes `durable`'s advisories."""
    return f"{durable}_adv"


class Undelivered:
    def __init__(self, nc: Any, js: Any, service: str, dead: DeadLetters,
                 durables: list[tuple[str, ConsumerConfig]], wait: float = 30.0) -> None:
        self._nc, self._js, self._service, self._dead = nc, js, service, dead
        self._configs = {(stream, c.durable_name or ""): c for stream, c in durables}
        self._wait = wait  # how long one pull request for advisories lingers
        self._pullers: list[Puller] = []
        self._tasks: set[asyncio.Task[None]] = set()
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        for stream, durable in self._configs:
            name = watcher(durable)
            await self._js.add_consumer(UNDELIVERED_STREAM, ConsumerConfig(
                durable_name=name, name=name, filter_subject=advisory(stream, durable),
                ack_policy=AckPolicy.EXPLICIT, ack_wait=60.0))
            puller = Puller(self._nc, UNDELIVERED_STREAM, name)
            await puller.start()
            self._pullers.append(puller)
            task = asyncio.create_task(self._watch(puller), name=f"undelivered-{durable}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=2.0)
        for puller in self._pullers:
            await puller.stop()

    async def _watch(self, puller: Puller) -> None:
        while True:
            try:
                advisories = await puller.fetch(16, self._wait)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("fetching undelivered-message advisories failed; retrying")
                await asyncio.sleep(1.0)
                continue
            if not advisories and puller.problem:  # e.g. the stream is being provisioned
                await asyncio.sleep(1.0)
            for msg in advisories:
                with contextlib.suppress(Exception):  # unacknowledged: it comes back
                    if await self._dead_letter(msg.data):
                        await msg.ack()
                    else:
                        await msg.nak(delay=10.0)

    async def _dead_letter(self, data: bytes) -> bool:
        """True when the advisory is settled: the message dead-lettered, or nothing to do."""
        try:
            body = json.loads(data)
            stream, seq = str(body["stream"]), int(body["stream_seq"])
            durable, deliveries = str(body["consumer"]), int(body.get("deliveries") or 0)
        except (ValueError, KeyError, TypeError):
            log.warning("unreadable max-deliveries advisory", extra={"service": self._service})
            return True
        config = self._configs.get((stream, durable))
        if config is None:
            return True
        for attempt in range(RETRIES):
            try:
                async with self._lock:  # one reading consumer per durable at a time
                    msg = await self._fetch(stream, config, seq)
                if msg is None:  # erased, or removed by retention, in the meantime
                    log.info("an undelivered message is no longer in its stream",
                             extra={"service": self._service, "stream": stream})
                    return True
                dead = stored_letter(
                    self._service, msg.subject, msg.data or b"", msg.headers,
                    f"undelivered: JetStream stopped delivering it after {deliveries} "
                    "deliveries without an answer (the process ended or stalled with it in "
                    "hand each time)", stream=stream, seq=seq, deliveries=deliveries,
                    redact=self._dead.redact)
                await self._dead.publish(dead, "undelivered")
                return True
            except Exception as exc:
                if attempt == RETRIES - 1:
                    log.error("could not dead-letter an undelivered message yet: %s", exc,
                              extra={"service": self._service, "stream": stream,
                                     "stream_seq": seq})
                    return False
                await asyncio.sleep(0.5 * 2 ** attempt)
        return False

    async def _fetch(self, stream: str, durable: ConsumerConfig, seq: int) -> Any:
        """The message at `seq`, through a consumer with one of the durable's filters
        (each the permission names): the one whose first message from `seq` is it."""
        for subject in durable.filter_subjects or [durable.filter_subject or ""]:
            msg = await self._first_from(stream, reader(durable.durable_name or ""),
                                         subject, seq)
            if msg is not None and msg.metadata.sequence.stream == seq:
                return msg
        return None

    async def _first_from(self, stream: str, name: str, subject: str, seq: int) -> Any:
        """The first message at or after `seq` on `subject`; None when there is none."""
        with contextlib.suppress(NotFoundError):  # one left by an instance that died
            await self._js.delete_consumer(stream, name)
        await self._js.add_consumer(stream, ConsumerConfig(
            name=name, filter_subject=subject, deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
            opt_start_seq=seq, ack_policy=AckPolicy.NONE, inactive_threshold=60.0))
        # A fetched message arrives under its stream subject, not the request's reply
        # subject, so nats-py's request() would not know it for the answer: a
        # subscription of its own takes it (as transport/puller.py does).
        inbox = self._nc.new_inbox()
        sub = await self._nc.subscribe(inbox, max_msgs=1)
        try:
            await self._nc.publish(f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{name}",
                                   json.dumps({"batch": 1, "no_wait": True}).encode(),
                                   reply=inbox)
            msg = await sub.next_msg(timeout=5)
            status = (msg.headers or {}).get("Status")
            if status in ("404", "408"):  # nothing there (any more)
                return None
            if status:
                raise RuntimeError(f"reading an undelivered message: status {status}")
            return msg
        finally:
            with contextlib.suppress(Exception):
                await sub.unsubscribe()
            with contextlib.suppress(Exception):
                await self._js.delete_consumer(stream, name)
