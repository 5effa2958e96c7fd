"""Erasing one person from volunteers (GDPR Art. 17, § 84 SGB X): a resident or a
volunteer (the erasure names the person's id; the two kinds of ids never meet).

A resident: the volunteer is not the one erased, their registration and load stay. Each
match with the resident becomes an anonymous stand-in under a fresh id (volunteer, offer,
state, the day it ended), so the figures and the volunteer's capacity stay right and an
open one can still be ended; the resident's open requests are kept as counts only,
everything else about them goes.

A volunteer: their registration goes. Their matches stay the residents' (the tandem
happened) under an anonymous stand-in for the volunteer; an open one ends as cancelled
that day (nobody is left to carry it on), and feedback written about it goes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts import utcnow
from im_runtime import UnitOfWork
from im_runtime.anonymous import StandIn, day, month, stand_in_id, stand_ins
from im_runtime.spec import Erased
from volunteers import store
from volunteers.domain import OPEN_STATES


def match(doc: Mapping[str, Any], person: str) -> dict[str, Any]:
    """Outcome, rating and feedback are about the resident: gone."""
    return {"volunteer_id": doc["volunteer_id"], "resident_id": person, "offer": doc["offer"],
            "state": doc["state"], "ended_at": day(doc.get("ended_at"))}


def request(doc: Mapping[str, Any], person: str) -> dict[str, Any] | None:
    """Only open requests are counted; a met one is told by its match."""
    if not doc["open"]:
        return None
    return {"resident_id": person, "open": True,
            "requested_on": month(doc["requested_on"])}


erase_resident = stand_ins(
    StandIn(store.MATCHES, match, counted=lambda d: d["state"] in OPEN_STATES),
    StandIn(store.REQUESTS, request, counted=lambda d: bool(d["open"])),
    residents=store.RESIDENTS)


async def erase_volunteer(volunteer_id: str, uow: UnitOfWork, done: Erased) -> None:
    volunteer = await uow.get(store.VOLUNTEERS, volunteer_id)
    if volunteer is not None:
        await uow.delete(store.VOLUNTEERS, volunteer_id)
        done.count(store.VOLUNTEERS)
    nobody = stand_in_id()
    for doc in await uow.find(store.MATCHES, {"volunteer_id": volunteer_id}):
        doc.update(volunteer_id=nobody, feedback=None)
        if doc["state"] in OPEN_STATES:
            doc.update(state="ended", outcome="cancelled", ended_at=day(utcnow()))
        uow.put(store.MATCHES, doc)
        done.count(store.MATCHES, anonymised=True)


async def erase(person_id: str, uow: UnitOfWork) -> Erased:
    done = await erase_resident(person_id, uow)
    await erase_volunteer(person_id, uow, done)
    return done
