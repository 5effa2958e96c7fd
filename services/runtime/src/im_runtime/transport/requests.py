"""Request subscriptions of one service, commands and queries alike, on nats-py's core
API: one subscription per subject (queue group: the service), a bounded number of
requests in hand at once, each answered on its reply subject.

Commands that write go through lanes: those with the same key (their route's
`order_by`, or one lane for the whole route when it has none) one at a time, in order
of arrival; those with different keys at once. nats-py calls `_on_msg` for one message
after the other, and the task it starts takes its key's lock before anything else, so
the lock's queue (first come, first served) is the order of arrival. (FastStream's
concurrent subscriber hands messages to workers that may reach the handler out of
order: seen 0, 1, 3, 2.) Queries and read commands have no lane: up to `workers` at once."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractContextManager
from typing import Any, Protocol

from nats.aio.msg import Msg

from im_runtime import tracing
from im_runtime.actors import ActorCheck, from_jetstream
from im_runtime.connection import on_server

log = logging.getLogger("im.requests")
ONE_LANE = ""  # the key of every command of a route without `order_by`


class Endpoint(Protocol):
    """What answers one kind of request (im_runtime.pipeline.endpoints)."""

    service: str
    span_name: str

    def decoded(self, body: bytes) -> Any:
        """The request, or None when it cannot be read (answering then says why)."""
        ...

    async def __call__(self, body: bytes, decoded: Any = None) -> bytes: ...


class Lanes:
    """One lock per key while requests with that key are in hand."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str | None) -> AsyncIterator[None]:
        if key is None:  # no lane: only the number at once is bounded
            yield
            return
        lock, users = self._locks.get(key) or (asyncio.Lock(), 0)
        self._locks[key] = (lock, users + 1)
        try:
            async with lock:
                yield
        finally:
            lock, users = self._locks[key]
            if users == 1:
                del self._locks[key]
            else:
                self._locks[key] = (lock, users - 1)

    def __len__(self) -> int:
        return len(self._locks)


def server_span(endpoint: Endpoint, headers: Any, subject: str) -> AbstractContextManager[Any]:
    """The span of answering one request: the caller's trace goes on here; no or a
    malformed traceparent starts a new one."""
    return tracing.span(endpoint.span_name, tracing.SpanKind.SERVER,
                        parent=tracing.extract(headers),
                        attributes={"im.service": endpoint.service,
                                    "messaging.destination.name": subject})


async def answer(endpoint: Endpoint, msg: Any, decoded: Any = None,
                 check: ActorCheck | None = None) -> bytes:
    """The reply to one request, in a server span that continues the caller's trace."""
    with server_span(endpoint, msg.headers, msg.subject):
        refused = check.refused(msg.headers, msg.data) if check is not None else None
        return refused or await endpoint(msg.data, decoded)


class Subscription:
    """One subject's requests, `workers` at once; `lane` gives a request's key (None:
    no lane)."""

    def __init__(self, endpoint: Endpoint, workers: int,
                 lane: Callable[[Any], str] | None = None,
                 check: ActorCheck | None = None) -> None:
        self._endpoint, self._lane, self._check = endpoint, lane, check
        self._lanes = Lanes()
        self._slots = asyncio.Semaphore(workers)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sub: Any = None

    async def start(self, nc: Any, subject: str, queue: str) -> None:
        self._sub = await nc.subscribe(subject, queue=queue, cb=self._on_msg)

    async def stop(self, grace: float = 10.0) -> None:
        """Take no more; let the requests in hand finish and answer."""
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace)

    async def _on_msg(self, msg: Msg) -> None:
        if from_jetstream(msg):  # injected through a consumer's delivery: not answered
            log.warning("a request delivered by JetStream is ignored (a consumer's delivery "
                        "subject pointed at this endpoint)",
                        extra={"endpoint": self._endpoint.span_name})
            return
        decoded = self._endpoint.decoded(msg.data)
        key = None
        if self._lane is not None:
            key = self._lane(decoded) if decoded is not None else ONE_LANE
        task = asyncio.create_task(self._answer(msg, decoded, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, msg: Msg, decoded: Any, key: str | None) -> None:
        async with self._lanes.hold(key), self._slots:
            reply = await answer(self._endpoint, msg, decoded, self._check)
        if msg.reply:
            try:
                await msg.respond(reply)
            except Exception:  # the caller went away or the connection closed
                log.warning("could not send a reply",
                            extra={"endpoint": self._endpoint.span_name}, exc_info=True)


class Requests:
    """Every request subscription of one service (queue group `queue`)."""

    def __init__(self, queue: str) -> None:
        self.queue = queue
        self._subs: list[tuple[str, Subscription]] = []

    def add(self, subject: str, subscription: Subscription) -> None:
        self._subs.append((subject, subscription))

    async def start(self, nc: Any) -> None:
        """Subscribed on the server when this returns: a request sent next is answered."""
        for subject, sub in self._subs:
            await sub.start(nc, subject, self.queue)
        await on_server(nc)

    async def stop(self, grace: float = 10.0) -> None:
        """Take no more; let the requests in hand finish and answer."""
        await asyncio.gather(*(sub.stop(grace) for _, sub in self._subs))
