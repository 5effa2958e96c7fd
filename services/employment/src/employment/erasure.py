"""Erasing one resident from employment (GDPR Art. 17, § 84 SGB X). Their projection,
participations, coaching, needs and placements go; where the programme statistics count
them, an anonymous stand-in under a fresh id keeps the count: programme, phase, state and
coarse dates, no resident id, birth data or free text."""

from __future__ import annotations

from typing import Any

from employment import store
from employment.domain import OPEN
from im_runtime import UnitOfWork
from im_runtime.anonymous import day, month, replace, stand_in_id
from im_runtime.spec import Erased


def participation(doc: dict[str, Any], person: str) -> dict[str, Any]:
    return {"resident_id": person, "programme_id": doc["programme_id"], "phase": doc["phase"],
            "status": doc["status"], "ended_at": day(doc.get("ended_at"))}


def placement(doc: dict[str, Any]) -> dict[str, Any]:
    return {"programme_id": doc["programme_id"], "phase": doc["phase"],
            "recorded_at": day(doc.get("recorded_at"))}


async def erase(resident_id: str, uow: UnitOfWork) -> Erased:
    done = Erased()
    # One stand-in id for all of the resident's counted records, so a site still counts
    # them as one participant; it is random and stored nowhere else.
    person = stand_in_id()
    mine = {"resident_id": resident_id}
    counted_at_site = False
    for doc in await uow.find(store.PARTICIPATIONS, mine):
        counted_at_site |= doc["status"] in OPEN
        await replace(uow, store.PARTICIPATIONS, doc, participation(doc, person), done)
    for doc in await uow.find(store.PLACEMENTS, mine):
        await replace(uow, store.PLACEMENTS, doc, placement(doc), done)
    for doc in await uow.find(store.COACHING, mine):  # the summary is free text
        await replace(uow, store.COACHING, doc, {"on": month(doc.get("on"))}, done)
    for doc in await uow.find(store.NEEDS, mine):  # only open needs are counted
        counted_at_site |= doc["open"]
        keep = {"resident_id": person, "open": True,
                "requested_on": month(doc.get("requested_on"))} if doc["open"] else None
        await replace(uow, store.NEEDS, doc, keep, done)
    await erase_resident(uow, resident_id, person, counted_at_site, done)
    return done


async def erase_resident(uow: UnitOfWork, resident_id: str, person: str,
                         counted_at_site: bool, done: Erased) -> None:
    """The projection goes; its site stays under the stand-in id where the site's
    figures count the resident's open participations or needs."""
    doc = await uow.get(store.RESIDENTS, resident_id)
    if doc is None:
        return
    site = doc.get("site_id")
    keep = {"site_id": site} if site is not None and counted_at_site else None
    await replace(uow, store.RESIDENTS, doc, keep, done, id=person)
