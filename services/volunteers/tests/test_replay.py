"""Late join: volunteers started for the first time on a system with history builds its
projections from JetStream before it answers, to the same state as live consumption."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from contracts import subjects as subj
from contracts.counselling import ReferralRequested
from contracts.queries import GetResidentOverview
from im_cli.testing import eventually
from im_runtime.service import ServiceRuntime, consumer_name
from volunteers import store
from volunteers.plugin import spec

pytestmark = pytest.mark.integration
COLLECTIONS = (store.RESIDENTS, store.SITES, store.REQUESTS, store.MATCHES)


async def state(rt: ServiceRuntime) -> dict[str, Any]:
    out = {}
    for name in COLLECTIONS:
        docs = await rt.store.db[name].find({}).to_list(None)
        out[name] = sorted(({k: v for k, v in d.items() if k != "_v"} for d in docs),
                           key=lambda d: d["_id"])
    return out


async def test_replay_builds_the_state_live_consumption_built(own, bus, vol, test_id, caplog):
    live = ServiceRuntime(spec, replace(own, db_prefix=f"live{test_id}_"))
    await live.start()
    try:
        site = f"s-{test_id}"
        for source, data in vol.history(site, "List", 200):
            await vol.publish(bus, source, data)
        for i in range(0, 200, 20):
            await vol.publish(bus, "counselling", ReferralRequested(
                referral_id=f"ref-{i}", resident_id=f"{site}-r{i}", operator_id="op1",
                site_id=site, topic="volunteers", requested_on=date(2026, 3, 2)))
        for source in ("housing", "counselling"):
            await eventually(lambda s=source: vol.settled(bus, s), timeout=30)
        want = await state(live)
    finally:
        await live.stop()
    assert len(want[store.RESIDENTS]) == 200 and len(want[store.REQUESTS]) == 10

    js = bus.jetstream()
    for source in ("housing", "counselling"):  # as if volunteers had never run here
        await js.delete_consumer(subj.event_stream(source), consumer_name("volunteers", source))
    caplog.set_level(logging.INFO, logger="im.replay")
    late = ServiceRuntime(spec, replace(own, db_prefix=f"late{test_id}_"))
    await late.start()  # returns once the history is in: no waiting below
    try:
        assert await state(late) == want
        section = await vol.ask(bus, GetResidentOverview(resident_id=f"{site}-r0"))
        assert len(section["open_requests"]) == 1
        done = [r for r in caplog.records if r.getMessage() == "replay done"]
        assert done and done[-1].events == 401 + 10  # type: ignore[attr-defined]
        pending = late.metrics.replay_pending.labels("volunteers",
                                                     consumer_name("volunteers", "housing"))
        assert pending._value.get() == 0
    finally:
        await late.stop()
