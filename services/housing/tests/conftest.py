"""Housing with the real servers: the service runs in-process; tests talk over the bus."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from contracts import Actor, ErrorReply
from contracts import subjects as subj
from housing.plugin import spec
from im_cli import testing
from im_runtime.service import ServiceRuntime

ADMIN = Actor(subject="admin-1", role="city_admin")


@pytest.fixture
async def housing(settings):
    rt = ServiceRuntime(spec, settings)
    await rt.start()
    yield rt
    await rt.stop()


@pytest.fixture
def call(nc):
    """Send a housing command; returns the decoded reply (or ErrorReply)."""

    async def send(name: str, command: Any, reply: type = dict) -> Any:
        route = next(r for r in spec.commands if r.name == name)
        body = command if isinstance(command, bytes) else msgspec.json.encode(command)
        msg = await nc.request(subj.command("housing", name), body, timeout=10)
        return msgspec.json.decode(msg.data, type=route.reply | ErrorReply)

    return send


@pytest.fixture
async def events(housing, nc):
    """Every housing event published while the test runs."""
    log, sub = await testing.follow_events(nc, "housing")
    yield log
    await sub.unsubscribe()


@pytest.fixture
def follow_events(nc):
    """`await follow_events()`: (EventLog, subscription) from now on, without a housing
    running in-process (for tests that run housing as a child process)."""
    return lambda: testing.follow_events(nc, "housing")


@pytest.fixture
def ask(nc):
    """Ask a scatter-gather query; returns housing's section (or the ErrorReply)."""
    from contracts import ServiceSection

    async def send(query: Any) -> Any:
        msg = await nc.request(subj.query(_query_name(query)),
                               msgspec.json.encode(query), timeout=5)
        reply = msgspec.json.decode(msg.data, type=ServiceSection | ErrorReply)
        if isinstance(reply, ErrorReply):
            return reply
        assert reply.service == "housing"
        return reply.section

    return send


def _query_name(query: Any) -> str:
    return next(a.name for a in spec.queries if isinstance(query, a.query))
