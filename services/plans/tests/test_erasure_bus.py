"""Erasure through the runtime with the real servers: plans erases a resident with a
plan (its hook), confirms, leaves nothing naming them in its database, and a fact about
them that arrives late moves nothing."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, date, datetime
from typing import Any

import msgspec
import pytest

from contracts import EventData, wrap
from contracts import privacy as pv
from contracts import subjects as subj
from contracts.education import EnrolmentCompleted
from contracts.housing import ResidentPlaced, ResidentRegistered
from im_cli.testing import eventually, stream_events
from im_runtime.service import ServiceRuntime
from plans import contracts as c
from plans.plugin import spec

pytestmark = pytest.mark.integration
ON = date(2026, 3, 2)
ADMIN = {"subject": "admin-1", "role": "city_admin"}


async def publish(js: Any, source: str, data: EventData) -> None:
    event = wrap(data, source=source)
    name = type(data).__struct_config__.tag.split(".")[2]  # type: ignore[union-attr]
    await js.publish(subj.event(source, name, event.subject), msgspec.json.encode(event),
                     headers={"Nats-Msg-Id": event.id})


async def mentions(rt: ServiceRuntime, term: str) -> list[str]:
    found = []
    for name in await rt.store.db.list_collection_names():
        async for doc in rt.store.db[name].find({}):
            if term in json.dumps(doc, default=str, ensure_ascii=False):
                found.append(f"{name}/{doc['_id']}")
    return found


async def test_a_resident_with_a_plan_is_erased_and_stays_erased(settings, nc):
    js, tag = nc.jetstream(), uuid.uuid4().hex[:8]
    rid, other, hid = f"r-{tag}", f"r2-{tag}", f"h-{tag}"
    rt = ServiceRuntime(spec, settings)
    await rt.start()
    try:
        for person in (rid, other):
            await publish(js, "housing", ResidentRegistered(
                resident_id=person, household_id=hid, birth_year=1990, languages=["fa"],
                residence_status="recognised_refugee", arrival_date=ON))
            await publish(js, "housing", ResidentPlaced(resident_id=person, household_id=hid,
                                                        site_id=f"s-{tag}", moved_in=ON))
        course = {"enrolment_id": f"e-{tag}", "course_id": "k", "passed": True,
                  "course_kind": "integration_course"}
        await publish(js, "education", EnrolmentCompleted(resident_id=rid,
                                                          certificate_level="A2", **course))
        body = msgspec.json.encode({"actor": ADMIN, "household_id": hid, "goals": [
            {"resident_id": rid, "field": "language", "title": f"Deutsch für {tag}",
             "responsible": {"party": "resident"}, "due": "2026-01-01",
             "steps": [{"title": "A2", "responsible": {"party": "resident"},
                        "link": {"fact": "language_course_completed", "level": "A2"}}],
             "links": [{"fact": "language_course_completed", "level": "B1"}]},
            {"resident_id": other, "field": "work", "title": "Arbeit",
             "responsible": {"party": "resident"}}]})

        async def created() -> Any:
            msg = await nc.request(subj.command("plans", "create_plan"), body, timeout=10)
            reply = msgspec.json.decode(msg.data)
            return reply if reply["status"] == "ok" else None

        plan = await eventually(created, timeout=20, interval=0.2)
        assert plan["goals"][0]["status"] == "in_progress"  # the A2 step, from the fact
        assert await mentions(rt, rid) and await mentions(rt, f"für {tag}")

        erasure_id = f"erasure-{tag}"
        request = wrap(pv.ErasureRequested(erasure_id=erasure_id, resident_id=rid,
                                           requested_at=datetime.now(UTC)), source="privacy")
        await js.publish(subj.event("privacy", "erasure_requested", rid),
                         msgspec.json.encode(request), headers={"Nats-Msg-Id": request.id})

        async def confirmed() -> list[pv.ErasureConfirmed]:
            return [e for e in await stream_events(
                js, subj.event("privacy", "erasure_confirmed"), pv.ErasureConfirmed)
                if e.erasure_id == erasure_id and e.service == "plans"]

        (done,) = await eventually(confirmed, timeout=20)
        assert done.removed == {"residents": 1, "facts": 1}
        # (the stored reply to create_plan named them too: forgotten by the runtime)
        assert done.anonymised == {"plans": 1, "households": 1, "im_processed": 1}
        assert await mentions(rt, rid) == [] and await mentions(rt, f"für {tag}") == []

        # B1 about the erased resident, late: dropped, the stand-in goal stays in progress
        await publish(js, "education", EnrolmentCompleted(resident_id=rid,
                                                          certificate_level="B1", **course))
        await eventually(lambda: rt.metrics.erased_dropped.labels("plans")._value.get() >= 1)
        msg = await nc.request(subj.command("plans", "get_plan"), msgspec.json.encode(
            {"actor": ADMIN, "plan_id": plan["plan_id"]}), timeout=10)
        after = msgspec.json.decode(msg.data, type=c.PlanView)
        assert [(g.field, g.status, g.title) for g in after.goals] == [
            ("language", "in_progress", "-"), ("work", "open", "Arbeit")]
        assert await mentions(rt, rid) == []
    finally:
        await rt.stop()
