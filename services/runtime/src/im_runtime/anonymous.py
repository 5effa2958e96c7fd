"""Anonymous stand-ins: what an erasure leaves where a service's figures count a resident.
A stand-in is a document under a fresh random id, marked `anonymised`, that holds only
what the statistics need: no resident id, no free text, dates cut down (to the day or the
month) so that nobody can be singled out by them."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from im_runtime.spec import Erased, EraseHandler
from im_runtime.storage.unit_of_work import UnitOfWork

__all__ = ["NOT_STAND_IN", "STAND_IN", "StandIn", "day", "is_stand_in", "is_stand_in_id",
           "month", "replace", "stand_in_id", "stand_ins", "year_month"]

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


@dataclass(frozen=True)
class StandIn:
    """How an erasure treats one collection: each document naming the resident (its
    `resident_id`) is replaced by what `keep(doc, person)` gives (None: removed), `person`
    being the erasure's one stand-in id; `counted(doc)`: the document makes the resident
    count in their site's figures."""

    collection: str
    keep: Callable[[Mapping[str, Any], str], Mapping[str, Any] | None]
    counted: Callable[[Mapping[str, Any]], bool] = lambda doc: False


def stand_ins(*table: StandIn, residents: str) -> EraseHandler:
    """An erase hook from a table of collections. The resident's projection in `residents`
    (keyed by the resident id) goes; where a counted document was found, its site stays
    under the stand-in id, so the site still counts one resident."""
    async def erase(resident_id: str, uow: UnitOfWork) -> Erased:
        done = Erased()
        # One stand-in id for all of the resident's counted records, so a site still
        # counts them as one; it is random and stored nowhere else.
        person = stand_in_id()
        counted_at_site = False
        for rule in table:
            for doc in await uow.find(rule.collection, {"resident_id": resident_id}):
                counted_at_site |= rule.counted(doc)
                await replace(uow, rule.collection, doc, rule.keep(doc, person), done)
        resident = await uow.get(residents, resident_id)
        if resident is not None:
            site = resident.get("site_id")
            keep = {"site_id": site} if site is not None and counted_at_site else None
            await replace(uow, residents, resident, keep, done, id=person)
        return done
    return erase
