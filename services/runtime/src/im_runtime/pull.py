"""The event consumer's fetch loop, on nats-py's core API.

FastStream 0.7.8's batch pull subscriber decodes every body it hands over, waits for a
full batch or its timeout, and dies on the bare TimeoutError nats-py 2.16 can raise;
nats-py's own `fetch` starts a task (and a uuid4) per message it waits for, a sixth of
a busy consumer's time in the replay benchmark. So pull requests go out here as the
JetStream API defines them, and one subscription callback collects the messages: a
request with `no_wait` for what is pending (up to a batch), and, when nothing was,
one that lingers for the next message. Commands and queries stay on FastStream."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from nats.aio.msg import Msg
from nats.errors import ConnectionClosedError
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig

from im_runtime.consume import EventConsumer

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
                 consumer: EventConsumer, batch: int, wait: float = 5.0) -> None:
        self._nc, self._js, self._stream, self._config = nc, js, stream, config
        self._consumer, self._batch, self._wait = consumer, batch, wait
        self._task: asyncio.Task[None] | None = None
        self._running = False
        self._handling = False
        self._next: asyncio.Task[list[Any]] | None = None
        self._committing: asyncio.Task[bool] | None = None
        self._previous: Any = None  # the batch committing
        self._sub: Any = None  # the Puller

    @property
    def stream(self) -> str:
        return self._stream

    @property
    def durable(self) -> str:
        return self._config.durable_name or ""

    async def start(self) -> None:
        await self._js.add_consumer(self._stream, self._config)  # creates or updates
        self._sub = Puller(self._nc, self._stream, self._config.durable_name or "")
        await self._sub.start()
        self._running = True
        self._task = asyncio.create_task(self._loop(), name=f"pull-{self._config.durable_name}")

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
            msgs = await self._next
            if not msgs:  # stopping
                break
            self._next = asyncio.create_task(self._fetch())
            self._handling = True
            try:
                before = self._committing
                carried = self._previous.carried() if before and self._previous else None
                batch = await self._consumer.prepare(msgs, carried)
                # (shielded: stopping must not cut the commit before this one short)
                if before is not None and not await asyncio.shield(before) and carried:
                    await self._consumer.redo(batch)
                self._previous = batch
                self._committing = asyncio.create_task(self._consumer.finish(batch))
            except Exception:  # unacked messages come back after ack_wait
                log.exception("batch failed")
                await self._settle()
            finally:
                self._handling = False
        await self._settle()

    async def _settle(self) -> None:
        """Wait for the batch committing (it acks what it committed)."""
        committing, self._committing = self._committing, None
        if committing is not None:
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
        await self._release_prefetched()
        await self._sub.stop()
        with contextlib.suppress(Exception):  # what arrived for a request still open
            for msg in self._sub.take_buffered():
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
