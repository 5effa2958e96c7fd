"""A tiny HTTP endpoint per service process: /health (alive), /ready, /metrics.

/health says the process runs (a liveness probe restarts it when it does not); /ready
says it can work now: started, connected to NATS and its database answering. While NATS
or the database is away it answers 503 with the reason, and the process waits for them
rather than being restarted."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, generate_latest

log = logging.getLogger("im.health")


class Readiness:
    """Whether the service can work now, and if not, why. The database is pinged every
    `interval` seconds (a ping that takes longer than `timeout` counts as no answer)."""

    def __init__(self, started: Callable[[], bool], nats_connected: Callable[[], bool],
                 ping: Callable[[], Awaitable[Any]], interval: float = 2.0,
                 timeout: float = 2.0) -> None:
        self._started, self._nats, self._ping = started, nats_connected, ping
        self.interval, self.timeout = interval, timeout
        self.database_ok = True
        self._task: asyncio.Task[None] | None = None

    def __call__(self) -> bool | str:
        """What /ready says: True, False while starting, or why not."""
        if not self._started():
            return False
        if not self._nats():
            return "NATS unreachable"
        if not self.database_ok:
            return "database unreachable"
        return True

    async def database_answers(self) -> bool:
        try:
            await asyncio.wait_for(self._ping(), self.timeout)
        except Exception:
            ok = False
        else:
            ok = True
        if ok != self.database_ok:
            (log.info if ok else log.warning)(
                "database answers again" if ok else "database does not answer")
        self.database_ok = ok
        return ok

    def start(self) -> None:
        self._task = asyncio.create_task(self._watch(), name="readiness")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.wait([self._task], timeout=2.0)

    async def _watch(self) -> None:
        while True:
            await self.database_answers()
            await asyncio.sleep(self.interval)


class HealthServer:
    def __init__(self, registry: CollectorRegistry,
                 ready: Callable[[], bool | str | None]) -> None:
        """`ready`: True (or None) when ready; False while starting; else the reason."""
        self._registry, self._ready = registry, ready
        self._server: asyncio.base_events.Server | None = None
        self.port = 0

    async def start(self, host: str, port: int) -> None:
        self._server = await asyncio.start_server(self._serve, host, port)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server:
            self._server.close()
            with contextlib.suppress(Exception):
                await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            line = await asyncio.wait_for(reader.readline(), 5)
            while (await asyncio.wait_for(reader.readline(), 5)) not in (b"\r\n", b"\n", b""):
                pass
            parts = line.decode("latin-1").split()
            path = parts[1] if len(parts) > 1 else "/"
            status, ctype, body = self._route(path)
            writer.write(f"HTTP/1.1 {status}\r\nContent-Type: {ctype}\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode()
                         + body)
            await writer.drain()
        except (TimeoutError, ConnectionError):
            pass
        finally:
            writer.close()

    def _route(self, path: str) -> tuple[str, str, bytes]:
        if path == "/health":
            return "200 OK", "application/json", b'{"status":"ok"}'
        if path == "/ready":
            state = self._ready()
            if state is True or state is None:
                return "200 OK", "application/json", b'{"status":"ready"}'
            body = {"status": "starting"} if state is False else {
                "status": "unavailable", "detail": state}
            return "503 Service Unavailable", "application/json", json.dumps(body).encode()
        if path == "/metrics":
            return "200 OK", CONTENT_TYPE_LATEST, generate_latest(self._registry)
        return "404 Not Found", "application/json", b'{"status":"not found"}'
