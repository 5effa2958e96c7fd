"""What education keeps from housing: each resident's year of birth and current site (for
reporting and for social workers' rights), and each site's district. Enrolments stay
when a resident moves; they and open access requests follow the resident's site."""

from __future__ import annotations

from typing import Any

from contracts import CloudEvent
from contracts.housing import (
    ResidentCorrected,
    ResidentMovedOut,
    ResidentPlaced,
    ResidentRegistered,
    ResidentTransferred,
    SiteRegistered,
)
from education import store
from im_runtime import UnitOfWork


async def _resident(uow: UnitOfWork, resident_id: str) -> dict[str, Any]:
    return await uow.get(store.RESIDENTS, resident_id) or {
        "_id": resident_id, "site_id": None, "birth_year": None}


async def on_resident_registered(event: CloudEvent[ResidentRegistered | ResidentCorrected],
                                 uow: UnitOfWork) -> None:
    """Registered, or the record corrected (Art. 16 GDPR): the year of birth as it is."""
    doc = await _resident(uow, event.data.resident_id)
    doc["birth_year"] = event.data.birth_year
    uow.put(store.RESIDENTS, doc)


async def on_site_registered(event: CloudEvent[SiteRegistered], uow: UnitOfWork) -> None:
    uow.put(store.SITES, {"_id": event.data.site_id, "district": event.data.district,
                          "name": event.data.name})


async def on_resident_moved(event: CloudEvent[ResidentPlaced | ResidentTransferred
                                              | ResidentMovedOut], uow: UnitOfWork) -> None:
    data = event.data
    site = None if isinstance(data, ResidentMovedOut) else data.site_id
    doc = await _resident(uow, data.resident_id)
    if doc["site_id"] == site:
        return
    if doc["site_id"] is None or site is None:  # arrived in, or left, city accommodation
        doc["placed_on"] = data.moved_in.isoformat() if isinstance(data, ResidentPlaced) else (
            None if site is None else event.time.date().isoformat())
    doc["site_id"] = site
    # retention counts from the day they left city accommodation
    doc["moved_out_on"] = (data.moved_out.isoformat()
                           if isinstance(data, ResidentMovedOut) else None)
    uow.put(store.RESIDENTS, doc)
    for coll, flt in ((store.ENROLMENTS, {}), (store.ACCESS, {"open": True})):
        for other in await uow.find(coll, {"resident_id": data.resident_id, **flt}):
            other["site_id"] = site
            uow.put(coll, other)
