"""Commands of a route with an `order_by` key: those with one key one at a time, in
order of arrival; those with different keys at once.

On nats-py's core API rather than FastStream: FastStream's concurrent subscriber hands
messages to workers that may reach the handler out of order (seen: 0, 1, 3, 2). Here
nats-py calls `_on_msg` for one message after the other, and the task it starts takes
its key's lock before anything else, so the lock's queue (first come, first served) is
the order of arrival."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from nats.aio.msg import Msg

from im_runtime.actors import ActorCheck
from im_runtime.endpoints import CommandEndpoint, server_span

log = logging.getLogger("im.ordered")


class Lanes:
    """One lock per key while commands with that key are in hand."""

    def __init__(self) -> None:
        self._locks: dict[str, tuple[asyncio.Lock, int]] = {}

    @contextlib.asynccontextmanager
    async def hold(self, key: str) -> AsyncIterator[None]:
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


class OrderedCommands:
    """One command subscription (queue group `queue`), `workers` commands at once."""

    def __init__(self, endpoint: CommandEndpoint, workers: int,
                 check: ActorCheck | None = None) -> None:
        self._endpoint, self._check = endpoint, check
        self._lanes = Lanes()
        self._slots = asyncio.Semaphore(workers)
        self._tasks: set[asyncio.Task[None]] = set()
        self._sub: Any = None

    async def start(self, nc: Any, subject: str, queue: str) -> None:
        self._sub = await nc.subscribe(subject, queue=queue, cb=self._on_msg)

    async def stop(self, grace: float = 10.0) -> None:
        """Take no more; let the commands in hand finish and answer."""
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=grace)

    async def _on_msg(self, msg: Msg) -> None:
        command = self._endpoint.decoded(msg.data)
        order_by = self._endpoint.route.order_by
        key = order_by(command) if command is not None and order_by is not None else ""
        task = asyncio.create_task(self._answer(msg, command, key))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _answer(self, msg: Msg, command: Any, key: str) -> None:
        endpoint = self._endpoint
        async with self._lanes.hold(key), self._slots:
            with server_span(endpoint, msg.headers, msg.subject):
                refused = self._check and self._check.refused(msg.headers, msg.data)
                reply = refused or await endpoint(msg.data, command)
        if msg.reply:
            try:
                await msg.respond(reply)
            except Exception:  # the caller went away or the connection closed
                log.warning("could not send a command's reply",
                            extra={"command": endpoint.route.name}, exc_info=True)
