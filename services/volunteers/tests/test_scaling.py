"""Three instances of volunteers (`im run volunteers`, as `im up --scale volunteers=3`
starts them) share one durable consumer per source: the work is split and nothing is
handled twice."""

from __future__ import annotations

from datetime import date
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from contracts import subjects as subj
from contracts.counselling import ReferralRequested
from im_cli.testing import eventually, started

pytestmark = pytest.mark.integration


async def scrape(health: str, name: str) -> float:
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{health}/metrics", timeout=5)).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith((name + "{", name + " ")))


@pytest.mark.timeout(300)  # three cold starts, on a loaded machine too
async def test_three_instances_share_the_work(spawn, own, private_nats, bus, vol, test_id,
                                              tmp_path):
    for _ in range(3):
        spawn("volunteers", IM_NATS_URL=private_nats.url)
    running = await started(bus, "volunteers", 3)
    site = f"s-{test_id}"
    history = vol.history(site, "List", 300)
    for source, data in history:
        await vol.publish(bus, source, data)
    for i in range(60):
        await vol.publish(bus, "counselling", ReferralRequested(
            referral_id=f"ref-{test_id}-{i}", resident_id=f"{site}-r{i}", operator_id="op1",
            site_id=site, topic="volunteers", requested_on=date(2026, 3, 2)))
    total = len(history) + 60
    for source in ("housing", "counselling"):
        await eventually(lambda s=source: vol.settled(bus, s), timeout=120)

    async def consumed() -> list[float]:
        return [await scrape(i.metadata["health"], "im_events_consumed_total") for i in running]

    done = await eventually(lambda: _sums_to(consumed(), total), timeout=60)
    assert all(n > 0 for n in done), done  # each instance took a share
    duplicates = [await scrape(i.metadata["health"], "im_events_duplicate_total")
                  for i in running]
    assert sum(duplicates) == 0
    db = AsyncMongoClient(own.mongo_url)[own.db_prefix + "volunteers"]
    assert await db["requests"].count_documents({}) == 60
    assert await db["residents"].count_documents({}) == 300

    async def published() -> int:  # one SupportRequested per referral; no tandem, no answer yet
        info = await bus.jetstream().stream_info(subj.event_stream("volunteers"))
        return int(info.state.messages)

    await eventually(lambda: _equals(published(), 60), timeout=60)


async def _sums_to(values: Any, want: float) -> Any:
    got = await values
    return got if sum(got) == want else None


async def _equals(value: Any, want: Any) -> bool:
    return (await value) == want
