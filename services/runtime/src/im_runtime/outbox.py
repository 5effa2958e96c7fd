"""Relays committed outbox entries to JetStream, oldest first. The event id goes out as
Nats-Msg-Id, so an entry sent again after a crash is dropped by the stream's dedupe.
While the bus is away or a stream refuses (full), entries wait and the relay tries
again by itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from nats.js import JetStreamContext

from im_runtime.metrics import Metrics
from im_runtime.storage import Store
from im_runtime.transient import is_transient

log = logging.getLogger("im.outbox")
BATCH = 500
MAX_WAIT = 10.0  # seconds between attempts while publishing fails


class OutboxRelay:
    def __init__(self, js: JetStreamContext, store: Store, metrics: Metrics,
                 interval: float = 1.0) -> None:
        self._js, self._store, self._metrics = js, store, metrics
        self._interval = interval
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self) -> None:
        """A commit wrote outbox entries: relay them now rather than at the next poll."""
        self._wake.set()

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
            await asyncio.gather(*(
                self._js.publish(e["subject"], e["body"],
                                 headers={**e.get("headers", {}), "Nats-Msg-Id": e["_id"]})
                for e in entries))
            await self._store.remove_outbox([e["_id"] for e in entries])
            self._metrics.published.labels(self._metrics.service).inc(len(entries))
            sent += len(entries)
            if len(entries) < BATCH:  # drained; a commit since then has called notify()
                self._metrics.outbox_pending.labels(self._metrics.service).set(0)
                return sent
