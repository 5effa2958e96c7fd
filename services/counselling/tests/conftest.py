"""Counselling's fixtures for tests with the real servers: counselling in-process, housing's
events published the way housing publishes them, operators' events as raw CloudEvents JSON
with plain nats-py, the scatter-gather answers, the dead letters and a stream's bodies."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import CloudEvent, ErrorReply, EventData, ServiceSection, event_parts, wrap
from contracts import subjects as subj
from contracts.housing import ResidentPlaced, SiteRegistered
from contracts.platform import DeadLetter
from counselling.plugin import spec
from im_cli.testing import eventually, with_prefix
from im_runtime.service import ServiceRuntime, consumer_name
from im_runtime.settings import Settings


@pytest.fixture(scope="module")
async def counselling(servers):
    """One counselling for a module (every test uses ids of its own): keeps the suite fast."""
    settings = Settings(nats_url=servers.nats_url, mongo_url=servers.mongo_url,
                        retry_backoff=0.05, max_deliver=3, log_format="text")
    rt = ServiceRuntime(spec, with_prefix(settings, f"m{uuid.uuid4().hex[:10]}_"))
    await rt.start()
    yield rt
    await rt.stop()


def raw_event(operator: str, data: dict[str, Any], source: str | None = None,
              subject: str | None = None) -> dict[str, Any]:
    """A CloudEvent as an operator's system in any language would write it: plain JSON."""
    return {"specversion": "1.0", "id": uuid.uuid4().hex, "source": source or operator,
            "type": data["type"], "time": "2026-03-24T14:32:19Z",
            "subject": subject if subject is not None else data.get("resident_id"),
            "datacontenttype": "application/json", "data": data}


async def publish_raw(nc: Any, subject: str, body: bytes, event_id: str) -> None:
    await nc.jetstream().publish(subject, body, headers={"Nats-Msg-Id": event_id})


async def publish_as(nc: Any, source: str, data: EventData) -> CloudEvent[Any]:
    event = wrap(data, source=source)
    _, name, _ = event_parts(type(data))
    await nc.jetstream().publish(subj.event(source, name, event.subject),
                                 msgspec.json.encode(event), headers={"Nats-Msg-Id": event.id})
    return event


async def settled(nc: Any, source: str) -> bool:
    stream = subj.OPS_STREAM if source == subj.OPERATOR else subj.event_stream(source)
    info = await nc.jetstream().consumer_info(stream, consumer_name("counselling", source))
    return info.num_pending == 0 and info.num_ack_pending == 0


@pytest.fixture
def shelter(counselling, nc):
    """`await shelter(operator)`: housing registers a site of `operator` and places a
    resident there; returns (site_id, resident_id) once counselling knows both."""

    async def make(operator: str) -> tuple[str, str]:
        site, rid = f"site-{uuid.uuid4().hex[:8]}", f"r-{uuid.uuid4().hex[:10]}"
        await publish_as(nc, "housing", SiteRegistered(
            site_id=site, kind="shelter", name="Munzeler Straße", operator_id=operator,
            district="Bothfeld", capacity=40))
        await publish_as(nc, "housing", ResidentPlaced(
            resident_id=rid, household_id=f"h-{rid}", site_id=site, operator_id=operator,
            moved_in=date(2026, 1, 6)))
        await eventually(lambda: settled(nc, "housing"))
        return site, rid

    return make


@pytest.fixture
def ask(nc):
    """`await ask(query, service="counselling")`: that service's section (raw bytes too)."""

    async def send(query: Any, service: str = "counselling") -> tuple[Any, bytes]:
        from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview

        name = {GetResidentOverview: "resident_overview", GetSiteOverview: "site_overview",
                GetCityStats: "city_stats"}[type(query)]
        inbox = nc.new_inbox()
        sub = await nc.subscribe(inbox)
        await nc.publish(subj.query(name), msgspec.json.encode(query), reply=inbox)
        try:
            while True:  # other services may answer too: take the one asked for
                msg = await sub.next_msg(timeout=5)
                reply = msgspec.json.decode(msg.data, type=ServiceSection | ErrorReply)
                if isinstance(reply, ServiceSection) and reply.service == service:
                    return reply.section, msg.data
        finally:
            await sub.unsubscribe()

    return send


@pytest.fixture
async def dead_letters(counselling, nc):
    """Dead letters on im.dlq.counselling from now on; `await dead_letters.of(event_id)`."""

    class Letters:
        def __init__(self, sub: Any) -> None:
            self.sub, self.seen = sub, []

        async def of(self, event_id: str, timeout: float = 10.0) -> DeadLetter:
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                for d in self.seen:
                    if event_id in d.body or d.headers.get("Nats-Msg-Id") == event_id:
                        return d  # type: ignore[no-any-return]
                left = deadline - asyncio.get_running_loop().time()
                if left <= 0:
                    raise AssertionError(f"no dead letter for {event_id}")
                msg = await self.sub.next_msg(timeout=left)
                self.seen.append(msgspec.json.decode(msg.data, type=DeadLetter))

    sub = await nc.jetstream().subscribe(subj.dead_letters_of("counselling"), ordered_consumer=True,
                                         deliver_policy="new")
    yield Letters(sub)
    await sub.unsubscribe()


async def stream_bodies(nc: Any, stream: str) -> list[tuple[str, bytes]]:
    """(subject, body) of every message in `stream` now."""
    js = nc.jetstream()
    info = await js.stream_info(stream)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            msg = await js.get_msg(stream, seq)
        except Exception:  # deleted or purged in between
            continue
        out.append((msg.subject, msg.data or b""))
    return out
