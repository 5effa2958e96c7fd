"""Education with the real servers: the service runs in-process; tests talk over the bus."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest

from contracts import ErrorReply, ServiceSection
from contracts import subjects as subj
from education.plugin import spec
from im_cli.testing import follow_events, with_prefix
from im_runtime.service import ServiceRuntime
from im_runtime.settings import Settings


@pytest.fixture(scope="module")
async def education(servers):
    """One education per module (each test uses ids of its own): keeps the suite fast."""
    settings = Settings(nats_url=servers.nats_url, mongo_url=servers.mongo_url,
                        retry_backoff=0.05, max_deliver=3, log_format="text")
    rt = ServiceRuntime(spec, with_prefix(settings, f"m{uuid.uuid4().hex[:10]}_"))
    await rt.start()
    yield rt
    await rt.stop()


@pytest.fixture
def call(nc):
    """Send an education command; returns the decoded reply (or ErrorReply)."""

    async def send(name: str, command: Any, timeout: float = 10) -> Any:
        route = next(r for r in spec.commands if r.name == name)
        body = command if isinstance(command, bytes) else msgspec.json.encode(command)
        msg = await nc.request(subj.command("education", name), body, timeout=timeout)
        return msgspec.json.decode(msg.data, type=route.reply | ErrorReply)

    return send


@pytest.fixture
async def events(education, nc):
    """Every education event published while the test runs (ordered consumer)."""
    log, sub = await follow_events(nc, "education")
    yield log
    await sub.unsubscribe()


@pytest.fixture
def ask(nc):
    """Ask a scatter-gather query; returns education's section (or the ErrorReply)."""

    async def send(query: Any) -> Any:
        name = next(a.name for a in spec.queries if isinstance(query, a.query))
        msg = await nc.request(subj.query(name), msgspec.json.encode(query), timeout=5)
        reply = msgspec.json.decode(msg.data, type=ServiceSection | ErrorReply)
        if isinstance(reply, ErrorReply):
            return reply
        assert reply.service == "education"
        return reply.section

    return send

