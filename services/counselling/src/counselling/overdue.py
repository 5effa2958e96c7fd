"""Referrals left without an answer: one still `requested` longer than
IM_REFERRAL_ANSWER_HOURS (default two weeks) after counselling took it is flagged once,
with a ReferralOverdue event, and counted on the city's worklist (`city_stats`:
`overdue_referrals`)."""

from __future__ import annotations

import asyncio
import logging
import os
import time
from collections.abc import Mapping
from datetime import date

from contracts.counselling import SERVICE, ReferralOverdue
from counselling import store
from im_runtime import UnitOfWork
from im_runtime.errors import ConcurrencyConflict
from im_runtime.spec import WorkerContext

log = logging.getLogger("im.counselling.overdue")
ENV = "IM_REFERRAL_ANSWER_HOURS"
DEFAULT_HOURS = 14 * 24.0
WORKLIST = {"state": "requested", "overdue": True}


def answer_hours(env: Mapping[str, str] = os.environ) -> float:
    raw = env.get(ENV, "")
    try:
        hours = float(raw) if raw else DEFAULT_HOURS
    except ValueError:
        hours = -1.0
    if not 0 < hours <= 24 * 365:
        raise ValueError(f"{ENV}={raw!r}: hours between 0 and 8760 expected")
    return hours


async def flag(uow: UnitOfWork, hours: float, now: float) -> int:
    """Flag (and announce) every referral waiting longer than `hours`: how many."""
    due = await uow.find(store.REFERRALS, {"state": "requested", "overdue": False,
                                           "requested_at": {"$lt": now - hours * 3600}})
    for doc in due:
        doc["overdue"] = True
        uow.put(store.REFERRALS, doc)
        uow.emit(ReferralOverdue(
            referral_id=doc["referral_id"], resident_id=doc["resident_id"],
            operator_id=doc["operator_id"], site_id=doc["site_id"], topic=doc["topic"],
            owner=doc["owner"], requested_on=date.fromisoformat(doc["requested_on"]),
            waited_hours=round((now - doc["requested_at"]) / 3600, 2)))
    return len(due)


async def watch(ctx: WorkerContext) -> None:
    try:
        hours = answer_hours()
    except ValueError as exc:  # said where it is seen, not lost with the task
        log.error("overdue referrals are not flagged: %s", exc)
        return
    every = min(hours * 360, 300.0)  # a tenth of the answer time, at most five minutes
    while True:
        await asyncio.sleep(every)
        uow = ctx.store.unit_of_work(SERVICE)
        try:
            if await flag(uow, hours, time.time()):
                await uow.commit()
        except ConcurrencyConflict:
            pass  # another instance flagged them first
        except Exception:
            log.exception("flagging overdue referrals failed; will try again")
