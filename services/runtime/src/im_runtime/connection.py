"""How a process holds its NATS connection through outages: reconnect for ever with a
capped, jittered backoff; notice a dead server within seconds; and when nats-py closes
the connection anyway (an explicit close, or an error it does not retry), end the
process with an exit code that says so, so that `im up`, compose or Kubernetes starts
it again. FastStream's own default gives up after 60 attempts two seconds apart: a
service then kept answering /health while it consumed nothing."""

from __future__ import annotations

import logging
import random
from collections.abc import Awaitable, Callable
from typing import Any

log = logging.getLogger("im.connection")

# sysexits' EX_UNAVAILABLE: the bus connection is gone for good and a restart is needed.
EXIT_BUS_CLOSED = 69


async def on_server(nc: Any) -> None:
    """Returns once the server has processed everything written on `nc` so far (its
    subscriptions above all). `nc.flush()` alone does not promise that in nats-py 2.16: it
    writes its PING straight to the socket, past the commands still waiting in the
    client's buffer, so the PONG can come back before the server has seen a SUB (a
    request right after a service said it was ready then met "no responders")."""
    written = await nc._flush_pending()  # the buffer out to the socket first
    if written is not None:
        await written
    await nc.flush()


def servers(url: str) -> list[str]:
    """IM_NATS_URL may name several servers of a cluster, comma-separated."""
    return [one.strip() for one in url.split(",") if one.strip()]


def backoff(attempt: int, initial: float = 0.1, cap: float = 5.0) -> float:
    """Seconds before reconnect attempt `attempt` (0 first): doubling up to `cap`, with
    jitter so a fleet of clients does not knock on a restarted server at once."""
    base = min(cap, initial * 2 ** max(0, attempt))
    return base * random.uniform(0.5, 1.0)


def _pick_server(servers: list[Any], info: dict[str, Any]) -> tuple[Any, float]:
    """nats-py's reconnect hook: the least tried server, after its backoff delay."""
    server = min(servers, key=lambda s: s.reconnects)
    return server, backoff(server.reconnects)


def reconnect_options(*, on_closed: Callable[[], Awaitable[None]],
                      on_disconnected: Callable[[], Awaitable[None]] | None = None,
                      on_reconnected: Callable[[], Awaitable[None]] | None = None,
                      closing: Callable[[], bool] = lambda: False) -> dict[str, Any]:
    """Options for `nats.connect` and FastStream's `NatsBroker` alike. `closing`: true
    while the process closes the connection itself (nats-py then reports a disconnect
    too, which is no news)."""
    async def disconnected() -> None:
        if not closing():
            log.warning("disconnected from NATS; reconnecting")
        if on_disconnected:
            await on_disconnected()

    async def reconnected() -> None:
        log.warning("reconnected to NATS")
        if on_reconnected:
            await on_reconnected()

    return {
        "max_reconnect_attempts": -1,
        "reconnect_to_server_handler": _pick_server,
        "connect_timeout": 2,
        # A server that vanished without closing the socket is noticed in ~30 s, not 4 min.
        "ping_interval": 10,
        "max_outstanding_pings": 3,
        "closed_cb": on_closed,
        "disconnected_cb": disconnected,
        "reconnected_cb": reconnected,
    }
