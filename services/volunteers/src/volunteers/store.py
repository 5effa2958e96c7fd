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



async def district_of(uow: UnitOfWork, resident: dict[str, Any] | None) -> str | None:
    if not resident or not resident.get("site_id"):
        return None
    site = await uow.get(SITES, resident["site_id"])
    return site.get("district") if site else None
