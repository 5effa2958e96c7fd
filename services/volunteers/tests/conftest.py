"""Volunteers' fixtures: for tests with the real servers, a private nats-server (so that
the volunteers' durable consumers start from nothing, as on a system it joins late),
volunteers in-process on it, and housing's and counselling's events published the way
those services publish them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import nats
import pytest

from contracts import CloudEvent, ErrorReply, EventData, ServiceSection, event_parts, wrap
from contracts import subjects as subj
from contracts.housing import ResidentPlaced, ResidentRegistered, SiteRegistered
from im_cli.embedded import NatsServer, free_port
from im_runtime.service import ServiceRuntime, consumer_name
from im_runtime.settings import Settings
from volunteers.plugin import spec

ON = date(2026, 3, 2)


@pytest.fixture
def store():
    from im_runtime.memory import MemoryStore

    return MemoryStore("volunteers")


@pytest.fixture
def private_nats(tmp_path: Path) -> Any:
    server = NatsServer(port=free_port(), workdir=tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def own(settings: Settings, private_nats: Any) -> Settings:
    return replace(settings, nats_url=private_nats.url)


@pytest.fixture
async def bus(private_nats: Any) -> AsyncIterator[Any]:
    conn = await nats.connect(private_nats.url)
    yield conn
    await conn.drain()


@pytest.fixture
async def volunteers(own: Settings) -> AsyncIterator[ServiceRuntime]:
    rt = ServiceRuntime(spec, own)
    await rt.start()
    yield rt
    await rt.stop()


async def publish(nc: Any, source: str, data: EventData) -> CloudEvent[Any]:
    event = wrap(data, source=source)
    _, name, _ = event_parts(type(data))
    await nc.jetstream().publish(subj.event(source, name, event.subject),
                                 msgspec.json.encode(event), headers={"Nats-Msg-Id": event.id})
    return event


async def settled(nc: Any, source: str) -> bool:
    info = await nc.jetstream().consumer_info(subj.event_stream(source),
                                              consumer_name("volunteers", source))
    return info.num_pending == 0 and info.num_ack_pending == 0


def history(site: str, district: str, residents: int) -> list[tuple[str, EventData]]:
    """A site and `residents` residents registered and placed there, as housing says it."""
    out: list[tuple[str, EventData]] = [("housing", SiteRegistered(
        site_id=site, kind="shelter", name="Oststadt", district=district, capacity=500))]
    for i in range(residents):
        rid = f"{site}-r{i}"
        out.append(("housing", ResidentRegistered(
            resident_id=rid, household_id=f"h-{rid}", birth_year=1990,
            languages=["ar", "de"] if i % 2 else ["uk"], residence_status="tolerated",
            arrival_date=ON)))
        out.append(("housing", ResidentPlaced(resident_id=rid, household_id=f"h-{rid}",
                                              site_id=site, moved_in=ON)))
    return out


async def ask(nc: Any, query: Any, service: str = "volunteers") -> Any:
    """Ask a scatter-gather query; `service`'s section (None when it does not answer)."""
    name = next(a.name for a in spec.queries if isinstance(query, a.query))
    inbox = nc.new_inbox()
    sub = await nc.subscribe(inbox)
    await nc.publish(subj.query(name), msgspec.json.encode(query), reply=inbox)
    try:
        while True:
            msg = await sub.next_msg(timeout=2)
            reply = msgspec.json.decode(msg.data, type=ServiceSection | ErrorReply)
            if isinstance(reply, ServiceSection) and reply.service == service:
                return reply.section
    except nats.errors.TimeoutError:
        return None
    finally:
        await sub.unsubscribe()


@pytest.fixture
def vol() -> Any:
    """The helpers above, for test modules (importlib mode cannot import conftest)."""
    import types

    return types.SimpleNamespace(publish=publish, settled=settled, history=history, ask=ask)
