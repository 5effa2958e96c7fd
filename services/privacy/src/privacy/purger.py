"""The ledger's worker: learns which services will confirm an erasure (the durable
consumers of the request on the bus), erases the resident's messages from every stream
at once, and once every expected service has confirmed erases again, including the
request itself, forgets the id, has the database server checkpoint its write-ahead log
and closes the erasure (shredder.py and storage.py say how the bytes go)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import datetime, timedelta
from typing import Any

from contracts import subjects as subj
from contracts import utcnow
from im_runtime import UnitOfWork, erasure_keys
from im_runtime.errors import ConcurrencyConflict
from im_runtime.service import consumer_name
from im_runtime.spec import WorkerContext
from im_runtime.streams import names as streams_of
from privacy import four_eyes, shredder, storage, sweeper
from privacy.ledger import ERASURES

log = logging.getLogger("im.privacy.purger")
PRIVACY_STREAM = subj.event_stream("privacy")
REQUEST_FILTER = subj.event("privacy", "erasure_requested") + ".*"
# While an erasure is open the worker looks again soon, then less often (a service that
# is down may take days to confirm); with none open it waits for the next request.
FIRST_LOOK, LAST_LOOK, IDLE = 0.2, 5.0, 300.0
SWEEP = 600.0  # seconds between looks for late messages about erased residents
CURSORS = "sweep_cursors"  # per stream: the last sequence read for volunteers and staff


async def work(ctx: WorkerContext) -> None:
    wake = asyncio.Event()

    async def requested(_: Any) -> None:
        wake.set()

    sub = await ctx.nc.subscribe(REQUEST_FILTER, cb=requested)
    pause = FIRST_LOOK
    loop = asyncio.get_running_loop()
    swept, was_open = -SWEEP, 0
    try:
        while True:
            wake.clear()
            try:
                still_open = await tick(ctx)
            except ConcurrencyConflict:  # a confirmation landed meanwhile: look again
                still_open = 1
            except Exception:
                log.exception("erasure worker failed; retrying")
                still_open = 1
            # Late messages about erased residents: at start, after each erasure, and now
            # and then (sweeper.py).
            if not still_open and (was_open or loop.time() - swept >= SWEEP):
                try:
                    await sweep_late(ctx)
                except Exception:
                    log.exception("sweep for late messages failed; the next one retries")
                swept = loop.time()
            was_open = still_open
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), pause if still_open else IDLE)
            pause = FIRST_LOOK if wake.is_set() else min(pause * 2, LAST_LOOK)
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


async def tick(ctx: WorkerContext) -> int:
    """One look at the open erasures; returns how many were open."""
    open_ = [d for d in await ctx.store.unit_of_work("privacy").find(ERASURES, {"complete": False})
             if four_eyes.approved(d)]  # one awaiting a second administrator has not gone out
    consumers = await expected_services(ctx.js) if open_ else []
    for doc in open_:
        if doc["expected"] is None:
            shredded = await shred_everywhere(ctx.nc, doc, keep_request=True)
            await save(ctx, doc["_id"], lambda d, s=shredded: d.update(
                expected=consumers, purges=d["purges"] + s[0], settle_by=s[1]))
            continue
        # A service whose consumer was deleted (decommissioned) will never confirm.
        gone = [s for s in doc["expected"]
                if s not in consumers and s not in doc["confirmations"]]
        if gone:
            log.warning("no longer waiting for services without a consumer",
                        extra={"erasure_id": doc["_id"], "services": gone})
            await save(ctx, doc["_id"], lambda d, g=gone: d.update(
                expected=[s for s in d["expected"] if s not in g]))
            continue
        if set(doc["expected"]) <= set(doc["confirmations"]):
            await finish(ctx, doc)
    return len(open_)


async def finish(ctx: WorkerContext, doc: dict[str, Any]) -> None:
    """Every service confirmed: erase the rest from the bus, the request included, forget
    the id and the request's free text (the category stays), then have the database
    server drop the old pages from its write-ahead log.
    Each step may be repeated after a crash; the erasure is complete only after all."""
    settle_by = doc.get("settle_by")
    if doc.get("pending_resident"):
        purges, settle_by = await shred_everywhere(ctx.nc, doc, keep_request=False)
        await save(ctx, doc["_id"], lambda d: d.update(
            purges=d["purges"] + purges, settle_by=settle_by, pending_resident=None,
            reason=None))
    if settle_by is not None and utcnow() < settle_by:
        return  # an older stream's state file still names the resident (shredder.py)
    if not await storage.checkpoint(ctx.store):
        log.info("erasure complete without a storage checkpoint (see docs/privacy.md)",
                 extra={"erasure_id": doc["_id"]})
    await save(ctx, doc["_id"], lambda d: d.update(complete=True, completed_at=utcnow()))
    log.info("erasure complete", extra={"erasure_id": doc["_id"],
                                        "services": sorted(doc["confirmations"])})


async def sweep_late(ctx: WorkerContext) -> dict[str, int]:
    """Late messages about erased people, by subject (residents) and, since the last sweep,
    by body (volunteers and staff); stream -> messages erased."""
    names = await streams_of(ctx.nc)
    # Where each stream ends, read before the erasures: a message after it is read next
    # time; one before it naming someone erased after this read was in that erasure's own
    # whole-stream pass (shredder.shred).
    ends = {s: await sweeper.last_seq(ctx.nc, s) for s in names}
    uow = ctx.store.unit_of_work("privacy")
    done = await uow.find(ERASURES, {"complete": True})
    erased = await sweeper.sweep(ctx.nc, names, erasure_keys.upgrade_all(d["key"] for d in done))
    people = erasure_keys.upgrade_all(d["key"] for d in done
                                      if d.get("person", "resident") != "resident")
    cursors = {d["_id"]: d for d in await uow.find(CURSORS)}
    for stream, end in ends.items():
        since = int(cursors.get(stream, {}).get("seq", 0))
        n = await sweeper.sweep_bodies(ctx.nc, stream, people, since, end)
        if n:
            erased[stream] = erased.get(stream, 0) + n
            log.warning("messages naming erased volunteers or staff reached the bus late; "
                        "erased them", extra={"stream": stream, "messages": n})
        if end != since:
            uow.put(CURSORS, {**cursors.get(stream, {"_id": stream}), "seq": end})
    await uow.commit()
    return erased


async def save(ctx: WorkerContext, erasure_id: str, change: Any) -> None:
    """Apply `change` to the ledger entry as it is now; a confirmation committed in
    between only makes us read again (what was purged must not be lost)."""
    for _ in range(10):
        uow: UnitOfWork = ctx.store.unit_of_work("privacy")
        doc = await uow.get(ERASURES, erasure_id)
        if doc is None:
            return
        change(doc)
        uow.put(ERASURES, doc)
        try:
            await uow.commit()
            return
        except ConcurrencyConflict:
            await asyncio.sleep(0.01)
    raise ConcurrencyConflict(f"erasure {erasure_id} kept changing; next tick")


async def expected_services(js: Any) -> list[str]:
    """Every service with a durable consumer of erasure requests: the ones running now
    and the ones stopped that will get the request when they come back."""
    out = []
    for info in await js.consumers_info(PRIVACY_STREAM):
        config = info.config
        wanted = list(config.filter_subjects or []) + (
            [config.filter_subject] if config.filter_subject else [])
        name = config.durable_name or ""
        if REQUEST_FILTER in wanted and name.endswith(consumer_name("", "privacy")):
            out.append(name.removesuffix(consumer_name("", "privacy")))
    return sorted(out)


async def shred_everywhere(nc: Any, doc: dict[str, Any], keep_request: bool
                          ) -> tuple[list[dict[str, Any]], datetime | None]:
    """Erase every message about the resident from every stream (the request on the
    privacy stream stays until every service has it): what each stream lost, and until
    when an older stream's state file may still name the resident."""
    streams = [s for s in await streams_of(nc) if not (keep_request and s == PRIVACY_STREAM)]
    earlier = frozenset(p["stream"] for p in doc["purges"])
    done = await shredder.shred(nc, streams, doc["pending_resident"], also_drop=earlier,
                                person=doc.get("person", "resident"))
    now = utcnow()
    purges = [{"stream": s, "messages": n, "at": now} for s, n in done.messages.items()]
    settle_by = doc.get("settle_by")
    if done.state_kept:
        log.warning("streams starting at sequence 1 keep their state file until nats-server "
                    "rewrites it", extra={"erasure_id": doc["_id"], "streams": done.state_kept})
        settle_by = now + timedelta(seconds=shredder.STATE_FLUSH)
    return purges, settle_by
