"""Volunteers' own picture of residents and sites from housing's events: languages,
site, and each site's district. Each fact keeps the CloudEvent time it was set at and
later facts win, so events that come out of order or twice leave the same state."""

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
from im_runtime import UnitOfWork
from volunteers import store

SITE_RANK: dict[type, int] = {ResidentPlaced: 0, ResidentTransferred: 1, ResidentMovedOut: 2}
MOVED_AWAY = ("other_municipality", "departed")


async def resident_doc(uow: UnitOfWork, resident_id: str) -> dict[str, Any]:
    return await uow.get(store.RESIDENTS, resident_id) or {
        "_id": resident_id, "languages": [], "site_id": None, "site_at": None}


async def on_site_registered(event: CloudEvent[SiteRegistered], uow: UnitOfWork) -> None:
    site = event.data
    uow.put(store.SITES, {"_id": site.site_id, "district": site.district, "kind": site.kind})


async def on_resident(event: CloudEvent[Any], uow: UnitOfWork) -> None:
    data = event.data
    doc = await resident_doc(uow, data.resident_id)
    if isinstance(data, ResidentRegistered | ResidentCorrected) \
            and event.time.timestamp() >= doc.get("languages_at", 0.0):  # corrections win
        doc["languages"] = sorted(set(data.languages))
        doc["languages_at"] = event.time.timestamp()
    rank = SITE_RANK.get(type(data))
    at = [event.time.timestamp(), rank]
    if rank is not None and (doc["site_at"] is None or at >= doc["site_at"]):
        moved_out = isinstance(data, ResidentMovedOut)
        doc["site_id"] = None if moved_out else data.site_id
        doc["site_at"] = at
        # Retention of the projection runs from leaving the city (a flat keeps them here).
        doc["left_city_at"] = event.time if moved_out and data.reason in MOVED_AWAY else None
    uow.put(store.RESIDENTS, doc)
