"""Volunteers' collections and typed reads through the unit of work."""

from __future__ import annotations

from typing import Any

from im_runtime import UnitOfWork

VOLUNTEERS, MATCHES, REQUESTS, RESIDENTS, SITES = (
    "volunteers", "matches", "requests", "residents", "sites")


need = UnitOfWork.need  # NotFound naming the missing thing


async def volunteer(uow: UnitOfWork, volunteer_id: str) -> dict[str, Any]:
    return await need(uow, VOLUNTEERS, volunteer_id, "volunteer")


async def match(uow: UnitOfWork, match_id: str) -> dict[str, Any]:
    return await need(uow, MATCHES, match_id, "match")


async def editable(uow: UnitOfWork, collection: str,
                   flt: dict[str, Any]) -> list[dict[str, Any]]:
    """Documents matching `flt`, read through `get` so a later `put` is version-checked."""
    out = []
    for found in await uow.find(collection, flt, sort=[("_id", 1)]):
        doc = await uow.get(collection, found["_id"])
        if doc is not None:
            out.append(doc)
    return out


async def district_of(uow: UnitOfWork, resident: dict[str, Any] | None) -> str | None:
    if not resident or not resident.get("site_id"):
        return None
    site = await uow.get(SITES, resident["site_id"])
    return site.get("district") if site else None
