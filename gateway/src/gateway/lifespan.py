"""The gateway's connection to the bus, opened in the app's lifespan and closed on shutdown.

The first connect is awaited for a short while so the gateway normally answers as
connected from its first request; when NATS is not (yet) reachable the gateway still
starts, answers 503 on /health and /readyz, and keeps trying in the background, as it
does after losing the connection (reconnecting for ever, im_runtime.connection). Should
nats-py close the connection for good anyway, /livez fails and the process ends itself
(SIGTERM), so that its supervisor starts a new one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
from collections.abc import AsyncIterator

from litestar import Litestar
from nats.aio.client import Client

from im_runtime.connection import reconnect_options, servers
from im_runtime.settings import Settings

log = logging.getLogger("im.gateway")


class Bus:
    def __init__(self, settings: Settings, first_wait: float = 5.0) -> None:
        self.settings = settings
        self.first_wait = first_wait
        self.nc = Client()
        self._connecting: asyncio.Task[None] | None = None
        self._last_error = ""
        self._closing = False
        self.lost = False  # the connection closed for good (not by close())

    @property
    def connected(self) -> bool:
        return bool(self.nc.is_connected)

    @property
    def detail(self) -> str:
        if self.connected:
            return ""
        return f"not connected to {self.settings.nats_url}" + (
            f": {self._last_error}" if self._last_error else "")

    async def _on_error(self, exc: Exception) -> None:
        text = f"{type(exc).__name__}: {exc}".rstrip(": ")
        if text != self._last_error:
            log.warning("nats: %s", text)
        self._last_error = text

    async def _on_closed(self) -> None:
        if self._closing:
            return
        self.lost = True
        log.error("NATS connection closed for good; ending the gateway so it is restarted")
        os.kill(os.getpid(), signal.SIGTERM)

    async def _connect(self) -> None:
        await self.nc.connect(
            servers(self.settings.nats_url), name="im-gateway", error_cb=self._on_error,
            **reconnect_options(on_closed=self._on_closed, closing=lambda: self._closing),
            **self.settings.nats_options())  # type: ignore[arg-type]
        self._last_error = ""
        log.info("connected to %s", self.settings.nats_url)

    async def open(self) -> None:
        self._connecting = asyncio.create_task(self._connect(), name="gateway-nats-connect")
        await asyncio.wait([self._connecting], timeout=self.first_wait)

    async def close(self) -> None:
        self._closing = True
        task = self._connecting
        if task is not None:
            # nats-py can swallow one cancellation while it tidies up after a failed
            # attempt (and then keep trying), so cancel until the task really ends.
            while not task.done():
                task.cancel()
                await asyncio.wait([task], timeout=0.2)
            if not task.cancelled():
                task.exception()  # retrieved, so asyncio does not log it as lost
        with contextlib.suppress(Exception):
            await self.nc.close()


@contextlib.asynccontextmanager
async def bus_lifespan(app: Litestar) -> AsyncIterator[None]:
    settings: Settings = app.state.settings
    bus = Bus(settings, first_wait=app.state.get("connect_wait", 5.0))
    app.state.bus = bus
    await bus.open()
    try:
        yield
    finally:
        await bus.close()
