"""Residents whose record a retention rule removed (`ResidentExpired`, from any service
whose rule `forgets` a person): every message about them leaves every stream, erased as
an erasure erases (shredder.py), the expiry event itself included. The id is kept only
until that is done; afterwards the record holds the one-way key and what was erased."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Any

from contracts import privacy as pv
from contracts import subjects as subj
from contracts import utcnow
from im_runtime import UnitOfWork, erasure_keys
from im_runtime.spec import WorkerContext
from im_runtime.streams import names as streams_of
from privacy import shredder

log = logging.getLogger("im.privacy.expiries")
EXPIRIES = "expiries"
WAKE = subj.event(pv.SERVICE, "resident_expired") + ".*"
IDLE = 60.0  # a look now and then, besides the wake-up on each expiry
KEEN = 10.0  # after a wake-up, look often for this long


async def on_expired(event: Any, uow: UnitOfWork) -> None:
    data: pv.ResidentExpired = event.data
    key = erasure_keys.key(data.resident_id)
    doc = await uow.get(EXPIRIES, key) or {
        "_id": key, "services": [], "purges": [], "resident": None, "at": None}
    doc["resident"] = data.resident_id  # (again) pending: a later message may have come
    doc["person"] = data.person
    doc["services"] = sorted({*doc["services"], data.service})
    doc["at"] = utcnow()
    uow.put(EXPIRIES, doc)


async def shred_pending(ctx: WorkerContext) -> int:
    """Erase the messages of every pending expiry; how many were pending."""
    pending = await ctx.store.unit_of_work(pv.SERVICE).find(EXPIRIES, {"resident": {"$ne": None}})
    if not pending:
        return 0
    streams = await streams_of(ctx.nc)
    for doc in pending:
        done = await shredder.shred(ctx.nc, streams, doc["resident"],
                                    person=doc.get("person", "resident"))
        uow = ctx.store.unit_of_work(pv.SERVICE)
        now = await uow.get(EXPIRIES, doc["_id"])
        if now is None:
            continue
        if now["at"] == doc["at"]:  # no newer expiry came meanwhile
            now["resident"] = None
        now["purges"] = now["purges"] + [{"stream": s, "messages": n, "at": utcnow()}
                                         for s, n in done.messages.items()]
        uow.put(EXPIRIES, now)
        await uow.commit()
        log.info("an expired resident's messages left the log",
                 extra={"streams": done.messages})
    return len(pending)


async def work(ctx: WorkerContext) -> None:
    wake = asyncio.Event()

    async def expired(_: Any) -> None:
        wake.set()

    sub = await ctx.nc.subscribe(WAKE, cb=expired)
    loop = asyncio.get_running_loop()
    keen_until = 0.0
    try:
        while True:
            if wake.is_set():  # the event reaches us before privacy's consumer stored it
                keen_until = loop.time() + KEEN
            wake.clear()
            try:
                found = await shred_pending(ctx)
            except Exception:
                log.exception("erasing expired residents' messages failed; the next look "
                              "retries")
                found = 0
            keen = found or loop.time() < keen_until
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), 0.3 if keen else IDLE)
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
