"""Plans over the bus with the real servers, installed like any service: discovered with
its commands, answering the views; and, joining a system with history, its durable
consumers build from JetStream the state that live consumption built."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import msgspec
import nats
import pytest

from contracts import EventData, event_parts, wrap
from contracts import subjects as subj
from contracts.education import EnrolmentCompleted
from contracts.housing import MoveOutCaseClosed, ResidentPlaced, ResidentRegistered
from im_cli.testing import eventually
from im_runtime.discovery import instances
from im_runtime.plugins import installed
from im_runtime.service import ServiceRuntime, consumer_name
from plans import store
from plans.plugin import spec

pytestmark = pytest.mark.integration
ON = date(2026, 3, 2)
KEPT = (store.RESIDENTS, store.HOUSEHOLDS, store.FACTS, store.WORKLISTS, store.STATS)


async def publish(nc: Any, source: str, data: EventData) -> None:
    event = wrap(data, source=source)
    _, name, _ = event_parts(type(data))
    await nc.jetstream().publish(subj.event(source, name, event.subject),
                                 msgspec.json.encode(event), headers={"Nats-Msg-Id": event.id})


def history(households: int) -> list[tuple[str, EventData]]:
    out: list[tuple[str, EventData]] = []
    for i in range(households):
        hid, site = f"h{i}", f"s{i % 3}"
        for m in range(2):
            rid = f"r{i}-{m}"
            out.append(("housing", ResidentRegistered(
                resident_id=rid, household_id=hid, birth_year=1990, languages=["ar"],
                residence_status="recognised_refugee", arrival_date=ON)))
            out.append(("housing", ResidentPlaced(resident_id=rid, household_id=hid,
                                                  site_id=site, moved_in=ON)))
        out.append(("education", EnrolmentCompleted(
            resident_id=f"r{i}-0", enrolment_id=f"e{i}", course_id="k", passed=True,
            course_kind="integration_course", certificate_level="B1")))
        if i % 4 == 0:
            out.append(("housing", MoveOutCaseClosed(resident_id=f"r{i}-0", case_id=f"c{i}",
                                                     household_id=hid, outcome="moved_out")))
    return out


async def state(rt: ServiceRuntime) -> dict[str, Any]:
    out = {}
    for name in KEPT:
        docs = await rt.store.db[name].find({}).to_list(None)
        out[name] = sorted(({k: v for k, v in d.items() if k != "_v"} for d in docs),
                           key=lambda d: d["_id"])
    return out


async def settled(nc: Any) -> bool:
    js = nc.jetstream()
    for source in ("housing", "education"):
        info = await js.consumer_info(subj.event_stream(source), consumer_name("plans", source))
        if info.num_pending or info.num_ack_pending:
            return False
    return True


async def test_discovered_and_a_late_join_replays_to_the_live_state(settings, private_nats,
                                                                    test_id):
    assert "plans" in installed()  # through the entry point, as any service
    own = replace(settings, nats_url=private_nats.url)
    nc = await nats.connect(private_nats.url)
    live = ServiceRuntime(spec, replace(own, db_prefix=f"live{test_id}_"))
    await live.start()
    try:
        (found,) = await eventually(lambda: _discovered(nc))
        assert {"create_plan", "get_worklist"} <= set(found.metadata["commands"].split(","))
        for source, data in history(40):
            await publish(nc, source, data)
        await eventually(lambda: settled(nc), timeout=30)
        want = await state(live)
    finally:
        await live.stop()
    assert len(want[store.HOUSEHOLDS]) == 40 and len(want[store.FACTS]) == 50
    assert len(want[store.WORKLISTS]) == 3
    js = nc.jetstream()
    for source in ("housing", "education"):  # as if plans had never run here
        await js.delete_consumer(subj.event_stream(source), consumer_name("plans", source))
    late = ServiceRuntime(spec, replace(own, db_prefix=f"late{test_id}_"))
    await late.start()  # returns once the history is in
    try:
        assert await state(late) == want
    finally:
        await late.stop()
        await nc.drain()


async def _discovered(nc: Any) -> Any:
    return (await instances(nc)).get("plans")
