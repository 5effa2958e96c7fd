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


class EventLog:
    """Every housing event (subject, decoded CloudEvent, raw body) seen since it started."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any], bytes]] = []

    def about(self, *ids: str) -> list[tuple[str, dict[str, Any], bytes]]:
        """Events whose subject ends in, or whose data names, one of `ids`."""
        wanted = set(ids)
        return [(s, e, raw) for s, e, raw in self.seen
                if s.rsplit(".", 1)[-1] in wanted
                or wanted & {str(v) for v in e["data"].values() if isinstance(v, str)}]

    def of(self, name: str, *ids: str) -> list[dict[str, Any]]:
        """Events of one kind (`resident_placed`) about `ids` (all when none given)."""
        pool = self.about(*ids) if ids else self.seen
        return [e for s, e, _ in pool if s.split(".")[3] == name]


async def _follow(nc: Any) -> tuple[EventLog, Any]:
    """Subscribe to im.evt.housing.> (ordered consumer) from the stream's current end."""
    from nats.js.api import ConsumerConfig, DeliverPolicy

    js = nc.jetstream()
    info = await js.stream_info(subj.event_stream("housing"))
    log = EventLog()

    async def seen(msg: Any) -> None:
        log.seen.append((msg.subject, msgspec.json.decode(msg.data), msg.data))

    sub = await js.subscribe(
        subj.events_of("housing"), cb=seen, ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                              opt_start_seq=info.state.last_seq + 1))
    return log, sub


@pytest.fixture
async def events(housing, nc):
    """Every housing event published while the test runs."""
    log, sub = await _follow(nc)
    yield log
    await sub.unsubscribe()


@pytest.fixture
def follow_events(nc):
    """`await follow_events()`: (EventLog, subscription) from now on, without a housing
    running in-process (for tests that run housing as a child process)."""
    return lambda: _follow(nc)


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
