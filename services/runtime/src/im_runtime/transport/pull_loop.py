"""The event consumer's fetch loop: a batch fetched ahead while the one before is in the
pipeline (im_runtime.pipeline.pipelined), messages in hand kept alive, and what the
pipeline could not finish put back.

Through outages: a batch that meets a database or bus that does not answer is held, in
hand and kept alive (`in_progress`, so it is neither redelivered nor counted), until the
database answers, then taken again; messages that came back ISOLATE_FROM times are
handled one at a time (`EventConsumer.alone`)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from typing import Any

from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig

from im_runtime import durables
from im_runtime.connection import backoff
from im_runtime.pipeline.events import ISOLATE_FROM
from im_runtime.pipeline.pipelined import Sequential
from im_runtime.pipeline.screen import deliveries
from im_runtime.transient import is_transient
from im_runtime.transport.puller import Puller

log = logging.getLogger("im.pull")


class PullLoop:
    def __init__(self, nc: Any, js: JetStreamContext, stream: str, config: ConsumerConfig,
                 stage: Sequential, batch: int, wait: float = 5.0,
                 database: Callable[[], Awaitable[bool]] | None = None,
                 max_bytes: int = 0, create_any: bool = True) -> None:
        self._nc, self._js, self._stream, self._config = nc, js, stream, config
        # False under a NATS user: a durable no permission can pin is provisioned.
        self._create_any = create_any
        self._stage, self._batch, self._wait = stage, batch, wait
        self._max_bytes = max_bytes  # of one fetch (0: no bound)
        self._database = database  # True when the database answers a ping
        self._task: asyncio.Task[None] | None = None
        self._keeper: asyncio.Task[None] | None = None
        self._running = False
        self._handling = False
        self._next: asyncio.Task[list[Any]] | None = None
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
        self._config = await durables.declare(self._js, self._stream, self._config,
                                              self._create_any)
        self._sub = Puller(self._nc, self._stream, self._config.durable_name or "",
                           self._max_bytes)
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
        # One batch fetched ahead while the pipeline has the one before (pipelined: one
        # whose handlers run and one committing).
        self._next = asyncio.create_task(self._fetch())
        while self._running:
            committing = self._stage.committing
            waiting = [t for t in (self._next, committing) if t is not None]
            await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if committing is not None and committing.done():
                failure = committing.exception()
                self._stage.committing = None
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
        await self._stage.settle()

    async def _take(self, msgs: list[Msg]) -> None:
        now = time.monotonic()
        for msg in msgs:
            self._in_hand[id(msg)] = (msg, now)
        fresh = [m for m in msgs if deliveries(m) < ISOLATE_FROM]
        suspects = [m for m in msgs if deliveries(m) >= ISOLATE_FROM]
        if fresh:
            await self._stage.take(fresh)
        for msg in suspects:  # each on its own, after everything before it has committed
            await self._stage.alone(msg)

    async def _failed(self, exc: BaseException) -> None:
        await self._stage.settle()
        self._stage.forget()
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
                await self._stage.settle(strict=True)
            except Exception as again:
                await self._stage.settle()
                self._stage.forget()
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
        if self._stage.committing is not None:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stage.settle(), grace)
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
