"""Erasing one resident from volunteers (GDPR Art. 17, § 84 SGB X). The volunteer is not
the one erased: their registration and load stay. Each match with the resident becomes
an anonymous stand-in under a fresh id (volunteer, offer, state, the day it ended), so the
figures and the volunteer's capacity stay right and an open one can still be ended; the
resident's open requests are kept as counts only, everything else about them goes."""

from __future__ import annotations

from typing import Any

from im_runtime import UnitOfWork
from im_runtime.anonymous import day, month, replace, stand_in_id
from im_runtime.spec import Erased
from volunteers import store
from volunteers.domain import OPEN_STATES


def match(doc: dict[str, Any], person: str) -> dict[str, Any]:
    """Outcome, rating and feedback are about the resident: gone."""
    return {"volunteer_id": doc["volunteer_id"], "resident_id": person, "offer": doc["offer"],
            "state": doc["state"], "ended_at": day(doc.get("ended_at"))}


def request(doc: dict[str, Any], person: str) -> dict[str, Any] | None:
    """Only open requests are counted; a met one is told by its match."""
    if not doc["open"]:
        return None
    return {"resident_id": person, "open": True,
            "requested_on": month(doc["requested_on"])}


async def erase(resident_id: str, uow: UnitOfWork) -> Erased:
    done = Erased()
    # One stand-in id for all of the resident's counted records, so a site still counts
    # them as one resident supported; it is random and stored nowhere else.
    person = stand_in_id()
    mine = {"resident_id": resident_id}
    counted_at_site = False
    for doc in await uow.find(store.MATCHES, mine):
        counted_at_site |= doc["state"] in OPEN_STATES
        await replace(uow, store.MATCHES, doc, match(doc, person), done)
    for doc in await uow.find(store.REQUESTS, mine):
        counted_at_site |= doc["open"]
        await replace(uow, store.REQUESTS, doc, request(doc, person), done)
    resident = await uow.get(store.RESIDENTS, resident_id)
    if resident is not None:
        site = resident.get("site_id")
        keep = {"site_id": site} if site is not None and counted_at_site else None
        await replace(uow, store.RESIDENTS, resident, keep, done, id=person)
    return done
