"""Where a signed-in social worker is deployed: housing's staff deployment (`assign_staff`)
decides, not the token. Asked with `get_staff` as the social worker herself and kept for
a short while, so a new deployment reaches her within that time."""

from __future__ import annotations

import time
from typing import Protocol

from contracts import Actor
from gateway.errors import ApiError

HOUSING = "housing"
# A deployment read when housing is down is kept this long past its time: a social
# worker keeps her sites through a short outage, never for a whole day.
STALE_FOR = 600.0


class Caller(Protocol):
    async def call(self, service: str, command: str, body: dict[str, object],
                   actor: Actor) -> dict[str, object]: ...


class Deployments:
    def __init__(self, caller: Caller, ttl: float) -> None:
        self.caller, self.ttl = caller, ttl
        self._known: dict[str, tuple[float, tuple[str, ...]]] = {}

    async def sites(self, staff_id: str) -> tuple[str, ...]:
        now = time.monotonic()
        known = self._known.get(staff_id)
        if known and now - known[0] < self.ttl:
            return known[1]
        me = Actor(subject=staff_id, role="social_worker")
        try:
            reply = await self.caller.call(HOUSING, "get_staff", {"staff_id": staff_id}, me)
        except ApiError as exc:
            if exc.code == "unavailable" and known and now - known[0] < self.ttl + STALE_FOR:
                return known[1]
            if exc.code == "unavailable":
                return ()  # nothing known: she sees no site until housing answers
            raise
        raw = reply.get("site_ids")
        sites = tuple(str(s) for s in raw) if isinstance(raw, list) else ()
        self._known[staff_id] = (now, sites)
        return sites

    def forget(self, staff_id: str) -> None:
        self._known.pop(staff_id, None)
