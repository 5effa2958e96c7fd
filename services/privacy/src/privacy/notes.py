"""Operators' case notes carry free text about a person; counselling keeps it, nothing
else may. On the bus a note stays only until every consumer of case notes has
acknowledged it, and never longer than `IM_CASE_NOTE_HOURS` (24): then it is erased from
the operators' stream as an erasure erases (shredder.py), and so is a dead letter holding
one. A consumer that is down longer than the window misses the note (logged); the
operator's own system still has it and may send it again."""

from __future__ import annotations

import asyncio
import base64
import logging
import os
from datetime import UTC, datetime, timedelta
from typing import Any

from contracts import subjects as subj
from contracts import utcnow
from im_runtime.spec import WorkerContext
from privacy import shredder

log = logging.getLogger("im.privacy.notes")
NOTES = subj.operator_filter("case_note_recorded", about_resident=True)
NOTE_MARK = b".case_note_recorded."  # in a dead letter's original subject
DEAD_LETTERS = subj.DLQ_SUBJECTS
LOOK = 60.0  # seconds between looks


def window() -> timedelta:
    raw = os.environ.get("IM_CASE_NOTE_HOURS", "24")
    try:
        hours = float(raw)
    except ValueError:
        raise ValueError(f"IM_CASE_NOTE_HOURS={raw!r} is not a number of hours") from None
    return timedelta(hours=max(hours, 0.0))


def matches(pattern: str, subject: str) -> bool:
    """NATS subject matching: `*` is one token, `>` the rest (at least one)."""
    p, s = pattern.split("."), subject.split(".")
    for i, token in enumerate(p):
        if token == ">":
            return len(s) > i
        if i >= len(s) or (token != "*" and token != s[i]):
            return False
    return len(p) == len(s)


async def consumed_up_to(js: Any) -> int | None:
    """The stream sequence up to which every consumer of case notes has acknowledged
    (None when nobody consumes them)."""
    sample = subj.operator_event("op", "case_note_recorded", "r")
    floors = []
    for info in await js.consumers_info(subj.OPS_STREAM):
        c = info.config
        filters = list(c.filter_subjects or []) + ([c.filter_subject] if c.filter_subject else [])
        if not filters or any(matches(f, sample) for f in filters):
            floors.append(int(info.ack_floor.stream_seq if info.ack_floor else 0))
    return min(floors) if floors else None


def _time(raw: str) -> datetime:
    # nats-server gives nanoseconds; Python reads at most microseconds
    head, _, frac = raw.rstrip("Z").partition(".")
    return datetime.fromisoformat(f"{head}.{(frac + '000000')[:6]}+00:00").astimezone(UTC)


async def _walk(nc: Any, stream: str, subject: str) -> Any:
    seq = 0
    while True:
        body = await shredder.api(nc, f"STREAM.MSG.GET.{stream}",
                                  {"next_by_subj": subject, "seq": seq + 1})
        error = body.get("error")
        if error:
            if error.get("err_code") == shredder.NO_MESSAGE:
                return
            raise shredder.BusError(f"reading {stream} failed: {error.get('description')}")
        msg = body["message"]
        seq = int(msg["seq"])
        yield seq, _time(msg["time"]), msg.get("data") or ""


async def look(nc: Any, now: datetime | None = None, keep: timedelta | None = None
               ) -> dict[str, int]:
    """Erase the case notes that every consumer has or whose window has passed, and dead
    letters holding a note past its window: stream -> messages erased."""
    cutoff = (now or utcnow()) - (window() if keep is None else keep)
    floor = await consumed_up_to(nc.jetstream())
    erased: dict[str, int] = {}
    async for seq, at, _ in _walk(nc, subj.OPS_STREAM, NOTES):
        consumed = floor is not None and seq <= floor
        if not consumed and at >= cutoff:
            break  # later notes are later still
        if not consumed:
            log.warning("a case note left the bus before every consumer had it",
                        extra={"seq": seq})
        if await shredder.erase(nc, subj.OPS_STREAM, seq):
            erased[subj.OPS_STREAM] = erased.get(subj.OPS_STREAM, 0) + 1
    async for seq, at, data in _walk(nc, subj.DLQ_STREAM, DEAD_LETTERS):
        if at < cutoff and NOTE_MARK in base64.b64decode(data) and \
                await shredder.erase(nc, subj.DLQ_STREAM, seq):
            erased[subj.DLQ_STREAM] = erased.get(subj.DLQ_STREAM, 0) + 1
    return erased


async def work(ctx: WorkerContext) -> None:
    while True:
        try:
            await look(ctx.nc)
        except Exception:
            log.exception("erasing consumed case notes failed; the next look retries")
        await asyncio.sleep(LOOK)
