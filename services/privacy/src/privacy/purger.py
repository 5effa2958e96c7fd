"""The ledger's worker: learns which services will confirm an erasure (the durable
consumers of the request on the bus), purges the resident's messages from every stream
at once, and once every expected service has confirmed purges again, including the
request itself, and closes the erasure."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from typing import Any

from contracts import subjects as subj
from contracts import utcnow
from im_runtime import UnitOfWork, streams
from im_runtime.errors import ConcurrencyConflict
from im_runtime.service import consumer_name
from im_runtime.spec import WorkerContext
from privacy.ledger import ERASURES

log = logging.getLogger("im.privacy.purger")
JS_API = "$JS.API"
PRIVACY_STREAM = subj.event_stream("privacy")
REQUEST_FILTER = subj.event("privacy", "erasure_requested") + ".*"
# While an erasure is open the worker looks again soon, then less often (a service that
# is down may take days to confirm); with none open it waits for the next request.
FIRST_LOOK, LAST_LOOK, IDLE = 0.2, 5.0, 300.0


async def work(ctx: WorkerContext) -> None:
    wake = asyncio.Event()

    async def requested(_: Any) -> None:
        wake.set()

    sub = await ctx.nc.subscribe(REQUEST_FILTER, cb=requested)
    pause = FIRST_LOOK
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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), pause if still_open else IDLE)
            pause = FIRST_LOOK if wake.is_set() else min(pause * 2, LAST_LOOK)
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()


async def tick(ctx: WorkerContext) -> int:
    """One look at the open erasures; returns how many were open."""
    open_ = await ctx.store.unit_of_work("privacy").find(ERASURES, {"complete": False})
    consumers = await expected_services(ctx.js) if open_ else []
    for doc in open_:
        rid = doc["pending_resident"]
        if doc["expected"] is None:
            purged = await purge_everywhere(ctx.nc, rid, keep_request=True)
            await save(ctx, doc["_id"], lambda d, p=purged: d.update(
                expected=consumers, purges=d["purges"] + p))
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
            purged = await purge_everywhere(ctx.nc, rid, keep_request=False)
            await save(ctx, doc["_id"], lambda d, p=purged: d.update(
                purges=d["purges"] + p, complete=True, completed_at=utcnow(),
                pending_resident=None))
            log.info("erasure complete", extra={"erasure_id": doc["_id"],
                                                "services": sorted(doc["confirmations"])})
    return len(open_)


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


async def purge_everywhere(nc: Any, resident_id: str, keep_request: bool) -> list[dict[str, Any]]:
    """Purge every subject ending in the resident's id from every stream (the request on
    the privacy stream stays until every service has it). Returns what each removed."""
    out = []
    for stream in await streams.names(nc):
        if keep_request and stream == PRIVACY_STREAM:
            continue  # only the request itself is about the resident there
        removed = 0
        for flt in subj.purge_filters(resident_id):
            removed += await purge(nc, stream, flt)
        if removed:
            out.append({"stream": stream, "messages": removed, "at": utcnow()})
    return out


async def purge(nc: Any, stream: str, subject: str) -> int:
    reply = await nc.request(f"{JS_API}.STREAM.PURGE.{stream}",
                             json.dumps({"filter": subject}).encode(), timeout=10)
    body = json.loads(reply.data)
    if "error" in body:
        raise RuntimeError(f"purging {subject} from {stream} failed: {body['error']}")
    return int(body.get("purged", 0))
