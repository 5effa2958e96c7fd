"""Which services the gateway should expect an answer from, learnt from the bus.

Discovery ($SRV.INFO, every instance answers) is reused for `ttl` seconds and refreshed
in the background, so a request waits for it only before the very first round. A
service stays expected for `forget_after` seconds after it was last seen: a service
that stops answering $SRV.INFO because it is down is then still reported as `missing`
instead of silently vanishing from the answer."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time

from gateway.lifespan import Bus
from im_runtime.discovery import instances

log = logging.getLogger("im.gateway")


class Directory:
    def __init__(self, bus: Bus, *, ttl: float, timeout: float, forget_after: float) -> None:
        self.bus, self.ttl, self.timeout, self.forget_after = bus, ttl, timeout, forget_after
        self._answers: dict[str, dict[str, float]] = {}  # query -> service -> last seen
        self._commands: dict[str, set[str]] = {}  # service -> commands, latest round
        self._personal: dict[str, dict[str, str]] = {}  # service -> command -> person field
        self._seen: dict[str, float] = {}  # service -> last seen
        self._fresh_until = 0.0
        self._rounds = 0
        self._task: asyncio.Task[None] | None = None

    async def expected(self, query: str, wait: float) -> set[str]:
        """Services that answer `query`; waits up to `wait` only if nothing is known yet."""
        await self.ready(wait)
        now = time.monotonic()
        return {name for name, seen in self._answers.get(query, {}).items()
                if now - seen <= self.forget_after}

    def commands_of(self, service: str) -> set[str] | None:
        """The commands a live service announced (None: not seen in the latest round)."""
        return self._commands.get(service)

    def knows(self, service: str) -> bool:
        """Whether the service was seen on the bus within `forget_after`."""
        seen = self._seen.get(service)
        return seen is not None and time.monotonic() - seen <= self.forget_after

    def personal_reads(self, service: str) -> dict[str, str] | None:
        """The commands whose replies name persons, with the field that names them (None:
        the service was not seen in the latest round)."""
        return self._personal.get(service)

    async def ready(self, wait: float) -> None:
        """Wait (up to `wait`) for the first discovery round, if none was made yet."""
        self._refresh_if_stale()
        if self._rounds == 0 and self._task is not None:
            await asyncio.wait([self._task], timeout=wait)

    def warm(self) -> None:
        self._refresh_if_stale()

    def _refresh_if_stale(self) -> None:
        if time.monotonic() >= self._fresh_until and (self._task is None or self._task.done()):
            self._task = asyncio.create_task(self._refresh(), name="gateway-discovery")

    async def _refresh(self) -> None:
        if not self.bus.connected:
            return
        try:
            found = await instances(self.bus.nc, self.timeout)
        except Exception as exc:  # a failed round keeps what was known
            log.warning("discovery failed: %s", exc)
            return
        now = time.monotonic()
        commands: dict[str, set[str]] = {}
        personal: dict[str, dict[str, str]] = {}
        for name, insts in found.items():
            self._seen[name] = now
            for inst in insts:
                personal.setdefault(name, {}).update(
                    p.partition("=")[::2] for p in inst.metadata.get("personal", "").split(",")
                    if "=" in p)
                for query in inst.queries:
                    self._answers.setdefault(query, {})[name] = now
                commands.setdefault(name, set()).update(
                    c for c in inst.metadata.get("commands", "").split(",") if c)
        self._commands, self._personal = commands, personal
        self._rounds += 1
        self._fresh_until = time.monotonic() + self.ttl

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(BaseException):
                await self._task
