"""Ingest benchmark: events/s of the runtime's consumer (JetStream -> decode ->
idempotent write -> ack) beside a minimal hand-written nats-py + PyMongo loop with the
same guarantees, in the same run. See bench/README.md.

    uv run python bench/ingest.py [--events N] [--batch B] [--keys K] [--profile]

Starts its own nats-server and nx-27017 on free ports in a temp dir unless IM_NATS_URL
and IM_MONGO_URL are set. Always exits 0: it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import cProfile
import io
import logging
import os
import platform
import pstats
import signal
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import msgspec
import nats
from nats.js import JetStreamContext
from nats.js.api import ConsumerConfig, StorageType, StreamConfig
from nats.js.errors import NotFoundError
from pymongo import AsyncMongoClient, InsertOne, UpdateOne
from pymongo.errors import OperationFailure

sys.path.insert(0, str(Path(__file__).resolve().parent))

from ingest_spec import SINK, SOURCE, Recorded, spec

from contracts import CloudEvent, wrap
from contracts import subjects as subj
from im_cli.embedded import throwaway_servers
from im_runtime import streams
from im_runtime.service import ServiceRuntime, consumer_name
from im_runtime.settings import Settings
from im_runtime.storage.mongo import PROCESSED

TARGET_RATE = 5_000.0
TARGET_RATIO = 0.8
DUPLICATE_WINDOW = 600.0
HAND_STREAM, HAND_PREFIX, HAND_DURABLE = "BENCH_HAND", "bench.hand", "bench_hand"
PUBLISH_CHUNK = 1_000
PROGRESS = bool(os.environ.get("BENCH_PROGRESS"))


# -- servers --------------------------------------------------------------------------

def servers(stack: contextlib.ExitStack) -> tuple[str, str, str]:
    """(nats url, mongo url, where they came from)."""
    if os.environ.get("IM_NATS_URL") and os.environ.get("IM_MONGO_URL"):
        return os.environ["IM_NATS_URL"], os.environ["IM_MONGO_URL"], "IM_NATS_URL/IM_MONGO_URL"
    natsd, mongod = stack.enter_context(throwaway_servers("im-bench-"))
    return natsd.url, mongod.url, "embedded nats-server + nx-27017 (sync_interval: always)"


# -- workload -------------------------------------------------------------------------

def workload(n: int, keys: int) -> list[tuple[str, str, bytes]]:
    """(key, event id, encoded CloudEvent) for n events over `keys` distinct keys."""
    enc = msgspec.json.Encoder()
    out = []
    for i in range(n):
        key = f"k{i % keys:05d}"
        event = wrap(Recorded(key=key, value=i % 7), source=SOURCE)
        out.append((key, event.id, enc.encode(event)))
    return out


async def reset_stream(js: JetStreamContext, config: StreamConfig) -> None:
    assert config.name
    with contextlib.suppress(NotFoundError):
        await js.delete_stream(config.name)
    await js.add_stream(config)


async def publish(js: JetStreamContext, events: list[tuple[str, str, bytes]],
                  subject: Callable[[str], str]) -> None:
    for start in range(0, len(events), PUBLISH_CHUNK):
        await asyncio.gather(*(
            js.publish(subject(key), body, headers={"Nats-Msg-Id": eid})
            for key, eid, body in events[start:start + PUBLISH_CHUNK]))


# -- completion -----------------------------------------------------------------------

async def wait_done(js: JetStreamContext, stream: str, durable: str, n: int,
                    processed: Callable[[], Awaitable[int]], timeout: float) -> float:
    """Until the durable has nothing pending or unacked and `processed()` == n; returns
    when the last ack was seen (the count, slow on nx-27017, is not ingest time)."""
    deadline = time.monotonic() + timeout
    last = time.monotonic()
    while time.monotonic() < deadline:
        try:
            info = await js.consumer_info(stream, durable)
        except NotFoundError:
            info = None
        if PROGRESS and time.monotonic() - last > 2:
            last = time.monotonic()
            print(f"  {durable}: pending={info and info.num_pending} "
                  f"unacked={info and info.num_ack_pending} processed={await processed()}",
                  flush=True)
        if (info is not None and info.num_pending == 0 and info.num_ack_pending == 0
                and (info.delivered.stream_seq or 0) >= n):
            acked = time.perf_counter()
            if await processed() == n:
                return acked
        await asyncio.sleep(0.02)
    raise TimeoutError(f"{durable}: not all {n} events acked within {timeout}s")


async def state_total(db: Any) -> tuple[int, int]:
    docs = await db["state"].find({}, {"n": 1}).to_list(None)
    return len(docs), sum(d.get("n", 0) for d in docs)


# -- the runtime ----------------------------------------------------------------------

async def run_runtime(js: JetStreamContext, nats_url: str, mongo_url: str, run: str,
                      n: int, batch: int, timeout: float, profile: bool) -> dict[str, Any]:
    settings = Settings(nats_url=nats_url, mongo_url=mongo_url, db_prefix=f"bench{run}_rt_",
                        batch_size=batch, log_format="text", log_level="WARNING")
    prof = cProfile.Profile() if profile else None
    rt = ServiceRuntime(spec, settings)
    processed = rt.store.db[PROCESSED]
    if prof:
        prof.enable()
    started = time.perf_counter()
    await rt.start()
    acked = await wait_done(js, subj.event_stream(SOURCE), consumer_name(SINK, SOURCE), n,
                            lambda: processed.count_documents({}), timeout)
    elapsed = acked - started
    if prof:
        prof.disable()
    keys, total = await state_total(rt.store.db)
    await rt.stop()
    result = {"seconds": elapsed, "rate": n / elapsed, "keys": keys, "total": total}
    if prof:
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(40)
        out.write("\n--- by own time ---\n")
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(30)
        result["profile"] = out.getvalue()
    return result


# -- the hand-written loop ------------------------------------------------------------

class HandLoop:
    """A durable pull consumer with fetch(batch); dedupe on event id in a processed
    collection and the state upserts in one transaction (as the runtime), then ack."""

    def __init__(self, js: JetStreamContext, client: AsyncMongoClient[Any], db: Any,
                 batch: int) -> None:
        self.js, self.client, self.db, self.batch = js, client, db, batch
        self.decoder = msgspec.json.Decoder(CloudEvent[Recorded])
        self.transactions = True

    async def run(self) -> None:
        psub = await self.js.pull_subscribe(
            f"{HAND_PREFIX}.>", durable=HAND_DURABLE, stream=HAND_STREAM,
            config=ConsumerConfig(ack_wait=30.0, max_deliver=6))
        while True:
            try:
                msgs = await psub.fetch(self.batch, timeout=0.05)
            except TimeoutError:
                continue
            await self.handle(msgs)

    async def handle(self, msgs: list[Any]) -> None:
        events = [(m, self.decoder.decode(m.data)) for m in msgs]
        ids = [e.id for _, e in events]
        seen = {d["_id"] for d in
                await self.db["processed"].find({"_id": {"$in": ids}}, {"_id": 1}).to_list(None)}
        fresh: dict[str, CloudEvent[Recorded]] = {}
        for _, e in events:
            if e.id not in seen and e.id not in fresh:
                fresh[e.id] = e
        if fresh:
            per_key: dict[str, list[int]] = {}
            for e in fresh.values():
                acc = per_key.setdefault(e.data.key, [0, 0])
                acc[0] += 1
                acc[1] += e.data.value
            now = time.time_ns()
            processed = [InsertOne({"_id": i, "at": now}) for i in fresh]
            state = [UpdateOne({"_id": k}, {"$inc": {"n": c, "sum": s}}, upsert=True)
                     for k, (c, s) in per_key.items()]
            await self.commit(processed, state)
        for m in msgs:
            await m.ack()

    async def commit(self, processed: list[Any], state: list[Any]) -> None:
        if self.transactions:
            async with self.client.start_session() as session:
                try:
                    txn = await session.start_transaction()
                except OperationFailure:  # a standalone mongod: no transactions
                    self.transactions = False
                else:
                    async with txn:
                        await self.db["processed"].bulk_write(processed, session=session)
                        await self.db["state"].bulk_write(state, session=session)
                    return
        await self.db["processed"].bulk_write(processed)
        await self.db["state"].bulk_write(state)


async def run_hand(js: JetStreamContext, mongo_url: str, run: str, n: int, batch: int,
                   timeout: float) -> dict[str, Any]:
    started = time.perf_counter()
    client: AsyncMongoClient[Any] = AsyncMongoClient(mongo_url, tz_aware=True)
    db = client[f"bench{run}_hand"]
    loop = HandLoop(js, client, db, batch)
    task = asyncio.create_task(loop.run())
    acked = None
    try:
        acked = await wait_done(js, HAND_STREAM, HAND_DURABLE, n,
                                lambda: db["processed"].count_documents({}), timeout)
    finally:
        elapsed = (acked or time.perf_counter()) - started
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
    keys, total = await state_total(db)
    await client.close()
    return {"seconds": elapsed, "rate": n / elapsed, "keys": keys, "total": total}


# -- report ---------------------------------------------------------------------------

def table(rows: list[tuple[str, str]]) -> str:
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"  {k:<{width}}  {v}" for k, v in rows)


async def main(args: argparse.Namespace) -> None:
    logging.basicConfig(level=logging.WARNING)
    logging.getLogger("faststream").setLevel(logging.WARNING)
    run = uuid.uuid4().hex[:6]
    with contextlib.ExitStack() as stack:
        nats_url, mongo_url, where = servers(stack)
        nc = await nats.connect(nats_url)
        js = nc.jetstream(timeout=30)
        # Bench-only stream names: dropped and declared afresh every run.
        await reset_stream(js, streams.event_stream(SOURCE, 1, DUPLICATE_WINDOW))
        await reset_stream(js, StreamConfig(
            name=HAND_STREAM, subjects=[f"{HAND_PREFIX}.>"], storage=StorageType.FILE,
            num_replicas=1, duplicate_window=DUPLICATE_WINDOW))
        events = workload(args.events, args.keys)
        t = time.perf_counter()
        await publish(js, events, lambda key: subj.event(SOURCE, "recorded", key))
        await publish(js, events, lambda key: f"{HAND_PREFIX}.recorded.{key}")
        pub_rate = 2 * len(events) / (time.perf_counter() - t)
        print(f"published {len(events)} events to each of 2 streams "
              f"({pub_rate:,.0f} awaited publishes/s); servers: {where}", flush=True)

        rt = await run_runtime(js, nats_url, mongo_url, run, args.events, args.batch,
                               args.timeout, args.profile)
        print(f"runtime:      {rt['rate']:>9,.0f} events/s  ({rt['seconds']:.2f}s)", flush=True)
        hand = await run_hand(js, mongo_url, run, args.events, args.batch, args.timeout)
        print(f"hand-written: {hand['rate']:>9,.0f} events/s  ({hand['seconds']:.2f}s)",
              flush=True)
        await nc.close()

    ratio = rt["rate"] / hand["rate"]
    ok_rate, ok_ratio = rt["rate"] >= TARGET_RATE, ratio >= TARGET_RATIO
    checks = all(r["total"] == args.events and r["keys"] == min(args.keys, args.events)
                 for r in (rt, hand))
    print()
    print(f"ingest benchmark: {args.events:,} events, {args.keys:,} keys, batch {args.batch}")
    print(table([
        ("runtime", f"{rt['rate']:,.0f} events/s"),
        ("hand-written", f"{hand['rate']:,.0f} events/s"),
        ("ratio", f"{ratio:.2f}x"),
        ("machine", f"{os.cpu_count()} cores, Python {platform.python_version()} "
                    f"({platform.machine()}, {platform.system()})"),
        (f"target >= {TARGET_RATE:,.0f}/s", "met" if ok_rate else "NOT met"),
        (f"target >= {TARGET_RATIO}x hand", "met" if ok_ratio else "NOT met"),
        ("state check", "ok (sum of n == events in both)" if checks else
         f"MISMATCH runtime={rt['total']}/{rt['keys']} hand={hand['total']}/{hand['keys']}"),
    ]))
    if args.profile:
        print("\n--- cProfile of the runtime run ---")
        print(rt["profile"])


def parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--events", type=int, default=20_000, help="events to ingest (20000)")
    p.add_argument("--batch", type=int, default=Settings().batch_size,
                   help="fetch batch size (the runtime's default)")
    p.add_argument("--keys", type=int, default=1_000, help="distinct state keys (1000)")
    p.add_argument("--timeout", type=float, default=600.0, help="seconds per run (600)")
    p.add_argument("--profile", action="store_true", help="cProfile the runtime run")
    return p.parse_args()


if __name__ == "__main__":
    # Killed (timeout, CI): unwind so the ExitStack stops the servers it started.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        asyncio.run(main(parse()))
    except (Exception, SystemExit) as exc:  # a benchmark: report, never fail the build
        logging.getLogger("bench").exception("benchmark failed: %s", exc)
    sys.exit(0)
