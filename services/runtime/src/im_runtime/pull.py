"""The event consumer's fetch loop, on nats-py directly.

FastStream 0.7.8's batch pull subscriber decodes every body it hands over, waits
for a full batch or its timeout, and dies on the bare TimeoutError nats-py 2.16 can
raise; measured here it cost about half the ingest throughput (bench/ingest.py). So
durable pull consumers are driven by this loop; commands and queries stay on
FastStream. `fetch` returns at once with whatever is pending (up to `batch`), so a
busy stream gets full batches and a quiet one gets each event without delay."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeout
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig

from im_runtime.consume import EventConsumer

log = logging.getLogger("im.pull")


class PullLoop:
    def __init__(self, js: JetStreamContext, stream: str, config: ConsumerConfig,
                 consumer: EventConsumer, batch: int, wait: float = 5.0) -> None:
        self._js, self._stream, self._config = js, stream, config
        self._consumer, self._batch, self._wait = consumer, batch, wait
        self._task: asyncio.Task[None] | None = None
        self._running = False
        self._handling = False
        self._next: asyncio.Task[list[Any]] | None = None
        self._sub: Any = None

    @property
    def stream(self) -> str:
        return self._stream

    @property
    def durable(self) -> str:
        return self._config.durable_name or ""

    async def start(self) -> None:
        await self._js.add_consumer(self._stream, self._config)  # creates or updates
        self._sub = await self._js.pull_subscribe_bind(
            durable=self._config.durable_name or "", stream=self._stream)
        self._running = True
        self._task = asyncio.create_task(self._loop(), name=f"pull-{self._config.durable_name}")

    async def _fetch(self) -> list[Any]:
        """The next non-empty batch; [] only when the loop is stopping."""
        while self._running:
            try:
                msgs = list(await self._sub.fetch(self._batch, timeout=self._wait))
            except (NatsTimeout, TimeoutError):
                continue
            except ConnectionClosedError:
                self._running = False
                return []
            except Exception:
                log.exception("fetch failed; retrying")
                await asyncio.sleep(1)
                continue
            if msgs:
                return msgs
            await asyncio.sleep(0.05)  # an empty answer: do not spin
        return []

    async def _loop(self) -> None:
        # The next batch is fetched while this one is handled: a batch's round trips to
        # the server overlap with the previous batch's commit.
        self._next = asyncio.create_task(self._fetch())
        while self._running:
            msgs = await self._next
            if not msgs:  # stopping
                break
            self._next = asyncio.create_task(self._fetch())
            self._handling = True
            try:
                await self._consumer.handle_batch(msgs)
            except Exception:  # unacked messages come back after ack_wait
                log.exception("batch failed")
            finally:
                self._handling = False

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
        await self._release_prefetched()
        with contextlib.suppress(Exception):
            await self._sub.unsubscribe()

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
