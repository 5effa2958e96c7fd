"""Anonymous stand-ins: what an erasure leaves where a service's figures count a resident.
A stand-in is a document under a fresh random id, marked `anonymised`, that holds only
what the statistics need: no resident id, no free text, dates cut down (to the day or the
month) so that nobody can be singled out by them."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any

from im_runtime.spec import Erased
from im_runtime.storage.unit_of_work import UnitOfWork

__all__ = ["NOT_STAND_IN", "STAND_IN", "day", "is_stand_in", "is_stand_in_id", "month",
           "replace", "stand_in_id", "year_month"]

_PREFIX = "anon-"
STAND_IN: Mapping[str, Any] = {"anonymised": True}
# A filter for real records only. $in rather than $ne: nx-27017 matches nothing for a $ne
# on a missing field beside a range condition, as retention's filters have
# (docs/mongo-compat.md, row 10).
NOT_STAND_IN: Mapping[str, Any] = {"anonymised": {"$in": [None, False]}}


def stand_in_id() -> str:
    """A fresh id that links to nobody."""
    return f"{_PREFIX}{uuid.uuid4().hex}"


def is_stand_in_id(id: str | None) -> bool:
    return id is not None and id.startswith(_PREFIX)


def is_stand_in(doc: Mapping[str, Any]) -> bool:
    return bool(doc.get("anonymised"))


def day(at: datetime | None) -> datetime | None:
    """A time cut to its day: enough for retention, too coarse to single anyone out."""
    return at.replace(hour=0, minute=0, second=0, microsecond=0) if at else None


def month(on: date | str | None) -> str | None:
    """A date (or an ISO date string) as the first of its month, "2026-03-01": still a
    date for retention's `stored="date"` rules, a little earlier, and no day to tell."""
    ym = year_month(on)
    return f"{ym}-01" if ym else None


def year_month(on: date | str | None) -> str | None:
    """A date (or an ISO date string) as its month alone, "2026-03"."""
    if not on:
        return None
    return (on.isoformat() if isinstance(on, date) else on)[:7]


async def replace(uow: UnitOfWork, collection: str, doc: Mapping[str, Any],
                  keep: Mapping[str, Any] | None, done: Erased, id: str | None = None) -> None:
    """Remove `doc`; where `keep` is given, put a stand-in holding only that (under `id`
    when the caller must know it, else a fresh one). Counted in `done` either way."""
    await uow.delete(collection, doc["_id"])
    if keep is None:
        done.count(collection)
        return
    uow.put(collection, {"_id": id or stand_in_id(), **STAND_IN, **keep})
    done.count(collection, anonymised=True)
