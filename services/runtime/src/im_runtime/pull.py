"""The event consumer's fetch loop, on nats-py's core API.

FastStream 0.7.8's batch pull subscriber decodes every body it hands over, waits for a
full batch or its timeout, and dies on the bare TimeoutError nats-py 2.16 can raise;
nats-py's own `fetch` starts a task (and a uuid4) per message it waits for, a sixth of
a busy consumer's time in the replay benchmark. So pull requests go out here as the
JetStream API defines them, and one subscription callback collects the messages: a
request with `no_wait` for what is pending (up to a batch), and, when nothing was,
one that lingers for the next message. Commands and queries stay on FastStream.

Through outages: a batch that meets a database or bus that does not answer is held, in
hand and kept alive (`in_progress`, so it is neither redelivered nor counted), until the
database answers, then taken again; messages that came back ISOLATE_FROM times are
handled one at a time (`EventConsumer.alone`)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig

from im_runtime.connection import backoff
from im_runtime.consume import ISOLATE_FROM, EventConsumer, deliveries
from im_runtime.transient import is_transient

log = logging.getLogger("im.pull")
API_PREFIX = "$JS.API"


class Puller:
    """Pull requests for one durable consumer on a private inbox. Each request has its
    own reply subject, so the status that ends it (404 nothing pending, 408 expired)
    is told from a late one of an earlier request; messages go to one buffer."""

    def __init__(self, nc: Any, stream: str, durable: str) -> None:
        self._nc = nc
        self._next = f"{API_PREFIX}.CONSUMER.MSG.NEXT.{stream}.{durable}"
        self._inbox = ""
        self._sub: Any = None
        self._buffer: list[Msg] = []
        self._want = 0
        self._current = ""
        self._seq = 0
        self._over = asyncio.Event()
        self.problem: str | None = None  # the last status other than 404/408

    async def start(self) -> None:
        self._inbox = self._nc.new_inbox()
        self._sub = await self._nc.subscribe(f"{self._inbox}.*", cb=self._on_msg)

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    def take_buffered(self) -> list[Msg]:
        out, self._buffer = self._buffer, []
        return out

    async def _on_msg(self, msg: Msg) -> None:
        headers = msg.headers or {}
        status = headers.get("Status")
        if not status:
            self._buffer.append(msg)
            if len(self._buffer) >= self._want:
                self._over.set()
        elif msg.subject == self._current and status != "100":  # 100: heartbeat
            if status not in ("404", "408"):  # 409 consumer deleted, 503 no such consumer …
                said = str(headers.get("Description") or "").strip().splitlines()
                self.problem = f"{status} {said[0] if said else ''}".strip()
            self._over.set()

    async def fetch(self, batch: int, wait: float) -> list[Msg]:
        """Up to `batch` messages: those pending at once, else the next within `wait`
        seconds; [] when none came."""
        self.problem = None
        if not self._buffer:
            await self._request({"batch": batch, "no_wait": True}, batch, 5.0)
        if not self._buffer and self.problem is None:
            await self._request({"batch": 1, "expires": int(wait * 1e9)}, 1, wait + 2.0)
        out, self._buffer = self._buffer[:batch], self._buffer[batch:]
        return out

    async def _request(self, body: dict[str, Any], want: int, deadline: float) -> None:
        self._seq += 1
        self._current = f"{self._inbox}.{self._seq}"
        self._want = len(self._buffer) + want
        self._over.clear()
        await self._nc.publish(self._next, json.dumps(body).encode(), reply=self._current)
        with contextlib.suppress(TimeoutError):  # a lost request: the caller asks again
            await asyncio.wait_for(self._over.wait(), deadline)


class PullLoop:
    def __init__(self, nc: Any, js: JetStreamContext, stream: str, config: ConsumerConfig,
                 consumer: EventConsumer, batch: int, wait: float = 5.0,
                 database: Callable[[], Awaitable[bool]] | None = None) -> None:
        self._nc, self._js, self._stream, self._config = nc, js, stream, config
        self._consumer, self._batch, self._wait = consumer, batch, wait
        self._database = database  # True when the database answers a ping
        self._task: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._running = False
        self._handling = False
        self._next: asyncio.Task[list[Any]] | None = None
        self._committing: asyncio.Task[bool] | None = None
        self._previous: Any = None  # the batch committing
        self._sub: Any = None  # the Puller
        # Messages handed to the consumer and not yet settled, with when they were.
        self._in_hand: dict[int, tuple[Msg, float]] = {}
        self.held = 0  # times a batch was held for a dependency (read by tests, logs)

    @property
    def stream(self) -> str:
        return self._stream

    @property
    def config(self) -> ConsumerConfig:
        return self._config

    @property
    def durable(self) -> str:
        return getattr(self._config, "durable_name", None) or ""

    @property
    def _ack_wait(self) -> float:
        return float(getattr(self._config, "ack_wait", None) or 30.0)

    async def start(self) -> None:
        await self._js.add_consumer(self._stream, self._config)  # creates or updates
        self._sub = Puller(self._nc, self._stream, self._config.durable_name or "")
        await self._sub.start()
        self._running = True
        self._task = asyncio.create_task(self._loop(), name=f"pull-{self._config.durable_name}")
        self._keeper = asyncio.create_task(self._keep_alive(), name=f"keep-{self.durable}")

    async def _fetch(self) -> list[Any]:
        """The next non-empty batch; [] only when the loop is stopping."""
        while self._running:
            try:
                msgs = list(await self._sub.fetch(self._batch, self._wait))
            except ConnectionClosedError:
                self._running = False
                return []
            except Exception:
                log.exception("fetch failed; retrying")
                await asyncio.sleep(1)
                continue
            if msgs:
                return msgs
            if self._sub.problem:  # e.g. 409 consumer deleted: say so, do not spin
                log.warning("pull request refused; retrying",
                            extra={"durable": self.durable, "status": self._sub.problem})
                await asyncio.sleep(1)
        return []

    async def _loop(self) -> None:
        # Three batches in hand at once: one fetched ahead, one whose handlers run, and
        # one committing. A batch's handlers start from what the one before will have
        # committed; if that one conflicts or fails instead, they run again afterwards.
        # Commits, and so acks, stay in order.
        self._next = asyncio.create_task(self._fetch())
        while self._running:
            waiting = [t for t in (self._next, self._committing) if t is not None]
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if self._committing is not None and self._committing.done():
                failure = self._committing.exception()
                self._committing = None
                if failure is not None:  # noticed now, not when the next batch comes
                    await self._failed(failure)
                    continue
            if not self._next.done():
                continue
            msgs = self._next.result()
            if not msgs:  # stopping
                break
            self._next = asyncio.create_task(self._fetch())
            self._handling = True
            try:
                await self._take(msgs)
            except Exception as exc:
                await self._failed(exc)
            finally:
                self._handling = False
        await self._settle()

    async def _take(self, msgs: list[Msg]) -> None:
        now = time.monotonic()
        for msg in msgs:
            self._in_hand[id(msg)] = (msg, now)
        fresh = [m for m in msgs if deliveries(m) < ISOLATE_FROM]
        suspects = [m for m in msgs if deliveries(m) >= ISOLATE_FROM]
        if fresh:
            before = self._committing
            carried = self._previous.carried() if before and self._previous else None
            batch = await self._consumer.prepare(fresh, carried)
            # (shielded: stopping must not cut the commit before this one short)
            if before is not None and not await asyncio.shield(before) and carried:
                await self._consumer.redo(batch)
            self._previous = batch
            self._committing = asyncio.create_task(self._consumer.finish(batch))
        if suspects:  # each on its own, after everything before it has committed
            await self._settle(strict=True)
            for msg in suspects:
                await self._consumer.alone(msg)

    async def _failed(self, exc: BaseException) -> None:
        await self._settle()
        self._previous = None
        if is_transient(exc):
            await self._hold(exc)
            return
        log.error("batch failed; its messages come back", exc_info=exc)
        for msg in self._unsettled():
            with contextlib.suppress(Exception):
                await msg.nak(delay=1.0)
        self._in_hand.clear()

    def _unsettled(self) -> list[Msg]:
        """Messages in hand not yet acked, naked or terminated, in stream order."""
        msgs = [m for m, _ in self._in_hand.values() if not m._ackd]
        return sorted(msgs, key=_stream_seq)

    async def _hold(self, exc: BaseException) -> None:
        """Keep the unsettled messages (kept alive by `_keep_alive`) until the database
        answers, then take them again; until they are handled or the loop stops."""
        self.held += 1
        held = self._unsettled()
        log.warning("database or bus unavailable; holding messages until it answers",
                    extra={"durable": self.durable, "messages": len(held),
                           "why": f"{type(exc).__name__}: {exc}"})
        began, attempt = time.monotonic(), 0
        while self._running and held:
            await asyncio.sleep(backoff(attempt, initial=0.2, cap=5.0))
            attempt += 1
            if self._database is not None and not await self._database():
                continue
            try:
                await self._take(held)
                await self._settle(strict=True)
            except Exception as again:
                await self._settle()
                self._previous = None
                if not is_transient(again):
                    await self._failed(again)
                    return
                held = self._unsettled()
                continue
            log.warning("held messages handled", extra={
                "durable": self.durable, "messages": len(held),
                "held_seconds": round(time.monotonic() - began, 1)})
            return

    async def _keep_alive(self) -> None:
        """Tell the server every ack_wait/3 that messages in hand for that long are being
        worked on, so a slow or held batch is not redelivered (and counted) meanwhile."""
        every = max(0.5, self._ack_wait / 3)
        while True:
            await asyncio.sleep(every)
            now = time.monotonic()
            for key, (msg, since) in list(self._in_hand.items()):
                if msg._ackd:
                    del self._in_hand[key]
                elif now - since >= every:
                    with contextlib.suppress(Exception):
                        await msg.in_progress()
            ahead = self._next
            if ahead is not None and ahead.done() and not ahead.cancelled() \
                    and ahead.exception() is None:
                for msg in ahead.result():
                    with contextlib.suppress(Exception):
                        await msg.in_progress()

    async def _settle(self, strict: bool = False) -> None:
        """Wait for the batch committing (it acks what it committed); `strict`: its
        failure is raised, not swallowed."""
        committing, self._committing = self._committing, None
        if committing is None:
            return
        if strict:
            await committing
            return
        with contextlib.suppress(Exception):
            await committing

    async def stop(self, grace: float = 10.0) -> None:
        """Stop fetching; let the batch in hand finish (it acks what it committed)."""
        self._running = False
        if self._task is None:
            return
        try:
            if not self._handling:  # waiting in fetch: nothing in hand to finish
                raise TimeoutError
            await asyncio.wait_for(asyncio.shield(self._task), grace)
        except TimeoutError:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        if self._committing is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._settle(), grace)
        if self._keeper is not None:
            self._keeper.cancel()
            await asyncio.wait([self._keeper], timeout=1.0)
        await self._release_prefetched()
        await self._sub.stop()
        with contextlib.suppress(Exception):  # held, or arrived for a request still open
            for msg in [*self._unsettled(), *self._sub.take_buffered()]:
                await msg.nak()

    async def _release_prefetched(self) -> None:
        """A batch fetched ahead but not handled goes back at once, not after ack_wait."""
        if self._next is None or self._next.cancelled():
            return
        if not self._next.done():
            self._next.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._next
            return
        with contextlib.suppress(Exception):
            for msg in self._next.result():
                await msg.nak()


def _stream_seq(msg: Msg) -> int:
    """From the ack subject: `$JS.ACK.<stream>.<consumer>.<delivered>.<sseq>.…`, or the
    form with domain and account hash before the stream."""
    tokens = (msg.reply or "").split(".")
    at = 5 if len(tokens) == 9 else 7
    return int(tokens[at]) if len(tokens) > at and tokens[at].isdigit() else 0
