"""Relays committed outbox entries to JetStream, oldest first. The event id goes out as
Nats-Msg-Id, so an entry sent again after a crash is dropped by the stream's dedupe.
While the bus is away or a stream refuses (full), entries wait and the relay tries
again by itself.

A stream that refuses for lack of room (its `max_bytes` or `max_msgs` reached, discard
new) is remembered as `full` until a publish goes through again: the command endpoint
then refuses commands that would emit events, before committing anything, and a command
that committed just as the stream filled is answered `accepted`, not done
(docs/reliability.md, F6). `published` lets a command wait for its own entries."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from nats.js import JetStreamContext
from nats.js.errors import APIError

from im_runtime.metrics import Metrics
from im_runtime.storage import Store
from im_runtime.transient import is_transient

log = logging.getLogger("im.outbox")
BATCH = 500
MAX_WAIT = 10.0  # seconds between attempts while publishing fails
# How long a command waits for its events to be taken by their streams before it is
# answered `accepted` instead of done: well below the gateway's command timeout (5 s),
# far above a publish (milliseconds).
PUBLISH_WAIT = 2.0
# JetStream's error when a stream's limits refuse a message (discard new): 10077, with
# "maximum bytes exceeded" or "maximum messages exceeded"; 10047: no storage left.
_FULL_CODES = frozenset({10077, 10047})


def refused_for_room(exc: BaseException) -> str | None:
    """Why a stream refused a publish for lack of room, or None for any other failure."""
    if isinstance(exc, APIError) and (exc.err_code in _FULL_CODES or "maximum" in str(
            exc.description or "")):
        return f"the event stream is full ({exc.description or exc.err_code})"
    return None


class OutboxRelay:
    def __init__(self, js: JetStreamContext, store: Store, metrics: Metrics,
                 interval: float = 1.0) -> None:
        self._js, self._store, self._metrics = js, store, metrics
        self._interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        # Why a stream refused for lack of room, until a publish goes through again.
        self.full: str | None = None
        # Entry id -> told when it is published (None) or why it was not.
        self._waiting: dict[str, asyncio.Future[str | None]] = {}

    def notify(self) -> None:
        """A commit wrote outbox entries: relay them now rather than at the next poll."""
        self._wake.set()

    async def published(self, ids: Sequence[str], timeout: float = PUBLISH_WAIT
                        ) -> str | None:
        """Wait until these entries are in their streams: None, or why they are not (a
        stream refused them, the bus failed them). Slow is not refused: after `timeout`
        seconds without an answer, None unless a stream is known to be full."""
        loop = asyncio.get_running_loop()
        futures = [self._waiting.setdefault(i, loop.create_future()) for i in ids]
        self.notify()
        try:
            done, pending = await asyncio.wait(futures, timeout=timeout)
        finally:
            for i in ids:
                self._waiting.pop(i, None)
        if why := next((f.result() for f in done if f.result()), None):
            return why
        return self.full if pending else None

    def _tell(self, ids: Sequence[str], why: str | None) -> None:
        for i in ids:
            future = self._waiting.get(i)
            if future is not None and not future.done():
                future.set_result(why)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        try:
            await self.flush()
        except Exception:  # what is left stays in the outbox for the next start
            log.exception("outbox flush on stop failed")

    async def _loop(self) -> None:
        """Flush on every commit and every `interval`; after a failure (the bus away, a
        stream full) wait longer each time, up to MAX_WAIT, and say so once, not on
        every attempt. What is not sent stays in the outbox."""
        failures = 0
        while True:
            try:
                sent = await self.flush()
            except Exception as exc:
                failures += 1
                if failures == 1:
                    log.warning("outbox relay cannot publish; entries wait in the outbox",
                                extra={"why": f"{type(exc).__name__}: {exc}"})
                elif not is_transient(exc) and failures % 20 == 0:
                    log.error("outbox relay still cannot publish",
                              extra={"why": f"{type(exc).__name__}: {exc}",
                                     "attempts": failures})
            else:
                if failures:
                    log.warning("outbox relay publishing again",
                                extra={"sent": sent, "attempts": failures})
                failures = 0
            wait = min(MAX_WAIT, self._interval * 2 ** failures) if failures else self._interval
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), wait)
            self._wake.clear()

    async def flush(self) -> int:
        """Publish everything pending; returns how many entries went out."""
        sent = 0
        while True:
            entries = await self._store.pending_outbox(BATCH)
            self._metrics.outbox_pending.labels(self._metrics.service).set(len(entries))
            if not entries:
                return sent
            results = await asyncio.gather(*(
                self._js.publish(e["subject"], e["body"],
                                 headers={**e.get("headers", {}), "Nats-Msg-Id": e["_id"]})
                for e in entries), return_exceptions=True)
            out = [e["_id"] for e, r in zip(entries, results, strict=True)
                   if not isinstance(r, BaseException)]
            self._tell(out, None)
            if out:
                await self._store.remove_outbox(out)
                self._metrics.published.labels(self._metrics.service).inc(len(out))
                sent += len(out)
            failure = next((r for r in results if isinstance(r, BaseException)), None)
            if failure is not None:  # what did not go out stays in the outbox
                self.full = refused_for_room(failure)
                self._tell([e["_id"] for e in entries], self.full or
                           f"not published: {type(failure).__name__}: {failure}")
                raise failure
            self.full = None
            if len(entries) < BATCH:  # drained; a commit since then has called notify()
                self._metrics.outbox_pending.labels(self._metrics.service).set(0)
                return sent
