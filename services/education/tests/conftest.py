"""Education with the real servers: the service runs in-process; tests talk over the bus."""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
import pytest

from contracts import ErrorReply, ServiceSection
from contracts import subjects as subj
from education.plugin import spec
from im_cli.testing import with_prefix
from im_runtime.service import ServiceRuntime
from im_runtime.settings import Settings


@pytest.fixture(scope="module")
async def education(servers):
    """One education per module (each test uses ids of its own): keeps the suite fast."""
    settings = Settings(nats_url=servers.nats_url, mongo_url=servers.mongo_url,
                        batch_wait=0.02, retry_backoff=0.05, max_deliver=3, log_format="text")
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


class EventLog:
    """Every education event (subject, decoded CloudEvent) seen since it started."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any]]] = []

    def of(self, name: str, *ids: str) -> list[dict[str, Any]]:
        """Events of one kind whose subject ends in, or whose data names, one of `ids`."""
        wanted = set(ids)
        return [e for s, e in self.seen if s.split(".")[3] == name and (
            not wanted or s.rsplit(".", 1)[-1] in wanted
            or wanted & {v for v in e["data"].values() if isinstance(v, str)})]


@pytest.fixture
async def events(education, nc):
    """Every education event published while the test runs (ordered consumer)."""
    from nats.js.api import ConsumerConfig, DeliverPolicy

    js = nc.jetstream()
    info = await js.stream_info(subj.event_stream("education"))
    log = EventLog()

    async def seen(msg: Any) -> None:
        log.seen.append((msg.subject, msgspec.json.decode(msg.data)))

    sub = await js.subscribe(
        subj.events_of("education"), cb=seen, ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                              opt_start_seq=info.state.last_seq + 1))
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

