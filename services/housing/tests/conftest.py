"""Housing with the real servers: the service runs in-process; tests talk over the bus."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from contracts import Actor, ErrorReply
from contracts import subjects as subj
from housing.plugin import spec
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
