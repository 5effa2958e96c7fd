"""Replay benchmark: a service joining late builds its projections from history.

Publishes N housing events (residents registered and placed at sites), then starts the
volunteers service for the first time: its new durable consumer replays the stream from
the beginning and `ServiceRuntime.start()` returns only once it has caught up (before
that it answers nothing). Prints events/s of that replay.

    uv run python bench/replay.py [--events N] [--batch B]

Starts its own nats-server and nx-27017 unless IM_NATS_URL and IM_MONGO_URL are set.
Always exits 0: it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import sys
import time
import uuid
from datetime import date
from pathlib import Path

import msgspec
import nats

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest import servers

from contracts import EventData, event_parts, wrap
from contracts import subjects as subj
from contracts.housing import ResidentPlaced, ResidentRegistered, SiteRegistered
from im_runtime import streams
from im_runtime.service import ServiceRuntime, consumer_name
from im_runtime.settings import Settings
from volunteers.plugin import spec

TARGET_RATE = 5_000.0
CHUNK = 1_000
ON = date(2026, 3, 2)


def history(n: int, run: str) -> list[EventData]:
    sites = [f"{run}-s{i}" for i in range(24)]
    out: list[EventData] = [SiteRegistered(site_id=s, kind="shelter", name=s, capacity=500,
                                           district=f"d{i % 13}") for i, s in enumerate(sites)]
    i = 0
    while len(out) < n:
        rid, site = f"{run}-r{i}", sites[i % len(sites)]
        out.append(ResidentRegistered(resident_id=rid, household_id=f"h{rid}", birth_year=1990,
                                      languages=["ar", "de"], residence_status="tolerated",
                                      arrival_date=ON))
        out.append(ResidentPlaced(resident_id=rid, household_id=f"h{rid}", site_id=site,
                                  moved_in=ON))
        i += 1
    return out[:n]


async def publish(js: object, events: list[EventData]) -> None:
    enc = msgspec.json.Encoder()
    for start in range(0, len(events), CHUNK):
        batch = []
        for data in events[start:start + CHUNK]:
            event = wrap(data, source="housing")
            subject = subj.event("housing", event_parts(type(data))[1], event.subject)
            batch.append(js.publish(subject, enc.encode(event),  # type: ignore[attr-defined]
                                    headers={"Nats-Msg-Id": event.id}))
        await asyncio.gather(*batch)


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    with contextlib.ExitStack() as stack:
        nats_url, mongo_url, where = servers(stack)
        run = uuid.uuid4().hex[:8]
        nc = await nats.connect(nats_url)
        js = nc.jetstream()
        await streams.ensure(js, streams.event_stream("housing", 1, 600.0))
        with contextlib.suppress(Exception):  # a first start: no volunteers consumer yet
            await js.delete_consumer(subj.event_stream("housing"),
                                     consumer_name("volunteers", "housing"))
        events = history(args.events, run)
        t0 = time.perf_counter()
        await publish(js, events)
        print(f"published {len(events):,} housing events in {time.perf_counter() - t0:.1f}s")
        settings = Settings(nats_url=nats_url, mongo_url=mongo_url, db_prefix=f"bench{run}_",
                            batch_size=args.batch, log_format="text")
        rt = ServiceRuntime(spec, settings)
        t0 = time.perf_counter()
        await rt.start()  # returns once the history is replayed
        took = time.perf_counter() - t0
        residents = await rt.store.db["residents"].count_documents({})
        await rt.stop()
        await nc.close()
        rate = len(events) / took
        print(f"servers: {where}")
        print(f"replayed {len(events):,} events into {residents:,} residents in {took:.1f}s "
              f"(start() to ready, incl. connecting): {rate:,.0f} events/s "
              f"(target {TARGET_RATE:,.0f}: {'met' if rate >= TARGET_RATE else 'NOT met'})")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=100_000)
    p.add_argument("--batch", type=int, default=Settings().batch_size,
                   help="fetch batch size (the runtime's default)")
    asyncio.run(main(p.parse_args()))
