"""Employment's fixtures: the in-memory store for handler tests; for tests with the real
servers, employment in-process, its commands, its events, its query sections, and
housing's and education's events published the way those services publish them."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

import msgspec
import pytest

from contracts import Actor, CloudEvent, ErrorReply, EventData, ServiceSection, wrap
from contracts import subjects as subj
from contracts.housing import ResidentPlaced, ResidentRegistered
from employment.plugin import spec
from im_cli.testing import eventually, follow_events, with_prefix
from im_runtime.service import ServiceRuntime, consumer_name
from im_runtime.settings import Settings

ADMIN = Actor(subject="admin-1", role="city_admin")


@pytest.fixture(scope="module")
async def employment(servers):
    """One employment for a module (every test uses ids of its own): keeps the suite fast."""
    settings = Settings(nats_url=servers.nats_url, mongo_url=servers.mongo_url,
                        retry_backoff=0.05, max_deliver=3, log_format="text")
    rt = ServiceRuntime(spec, with_prefix(settings, f"m{uuid.uuid4().hex[:10]}_"))
    await rt.start()
    yield rt
    await rt.stop()


@pytest.fixture
def call(nc):
    """Send an employment command; returns the decoded reply (or ErrorReply)."""

    async def send(name: str, command: Any) -> Any:
        route = next(r for r in spec.commands if r.name == name)
        body = command if isinstance(command, bytes) else msgspec.json.encode(command)
        msg = await nc.request(subj.command("employment", name), body, timeout=10)
        return msgspec.json.decode(msg.data, type=route.reply | ErrorReply)

    return send


@pytest.fixture
def ask(nc):
    """Ask a scatter-gather query; returns employment's section (or the ErrorReply)."""

    async def send(query: Any) -> Any:
        name = next(a.name for a in spec.queries if isinstance(query, a.query))
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox)
        await nc.publish(subj.query(name), msgspec.json.encode(query), reply=inbox)
        try:
            while True:  # other services may answer too: take employment's answer
                msg = await sub.next_msg(timeout=5)
                reply = msgspec.json.decode(msg.data, type=ServiceSection | ErrorReply)
                if isinstance(reply, ErrorReply):
                    if reply.details.get("service") == "employment":
                        return reply
                elif reply.service == "employment":
                    return reply.section
        finally:
            await sub.unsubscribe()

    return send


async def _publish(nc: Any, source: str, data: EventData, at: datetime | None = None,
                  id: str | None = None) -> CloudEvent[Any]:
    """Publish `data` as service `source` does: CloudEvent, Nats-Msg-Id = event id."""
    from contracts import event_parts

    event = wrap(data, source=source, time=at, id=id)
    _, name, _ = event_parts(type(data))
    await nc.jetstream().publish(subj.event(source, name, event.subject),
                                 msgspec.json.encode(event), headers={"Nats-Msg-Id": event.id})
    return event


async def _settled(nc: Any, source: str) -> bool:
    """Employment's consumer of `source`'s events has nothing pending or unacked."""
    info = await nc.jetstream().consumer_info(subj.event_stream(source),
                                              consumer_name("employment", source))
    return info.num_pending == 0 and info.num_ack_pending == 0


@pytest.fixture
def publish(nc):
    """`await publish(source, data, at=None, id=None)`: an event as `source` publishes it."""
    return lambda source, data, at=None, id=None: _publish(nc, source, data, at, id)


@pytest.fixture
def settled(nc):
    """`await settled(source)`: employment has taken in all of `source`'s events."""
    return lambda source: _settled(nc, source)


@pytest.fixture
def resident(nc):
    """`await resident(rid, site, ...)`: housing announces a placed resident; returns once
    employment has taken it in."""

    async def make(rid: str, site: str, birth_year: int = 1990,
                   status: str = "recognised_refugee") -> str:
        hh = f"h-{rid}"
        await _publish(nc, "housing", ResidentRegistered(
            resident_id=rid, household_id=hh, birth_year=birth_year,
            residence_status=status, arrival_date=date(2026, 1, 5)))  # type: ignore[arg-type]
        await _publish(nc, "housing", ResidentPlaced(
            resident_id=rid, household_id=hh, site_id=site, moved_in=date(2026, 1, 6)))
        await eventually(lambda: _settled(nc, "housing"))
        return rid

    return make


@pytest.fixture
async def events(employment, nc):
    """Every employment event published while the test runs (ordered consumer)."""
    log, sub = await follow_events(nc, "employment")
    yield log
    await sub.unsubscribe()
