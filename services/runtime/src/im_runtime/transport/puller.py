"""Pull requests for one durable consumer, on nats-py's core API.

FastStream 0.7.8's batch pull subscriber decodes every body it hands over, waits for a
full batch or its timeout, and dies on the bare TimeoutError nats-py 2.16 can raise;
nats-py's own `fetch` starts a task (and a uuid4) per message it waits for, a sixth of
a busy consumer's time in the replay benchmark. So pull requests go out here as the
JetStream API defines them, and one subscription callback collects the messages: a
request with `no_wait` for what is pending (up to a batch), and, when nothing was,
one that lingers for the next message."""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import Any

from nats.aio.msg import Msg

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
