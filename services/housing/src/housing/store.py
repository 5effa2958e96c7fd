"""Typed access to housing's documents through the unit of work."""

from __future__ import annotations

from typing import Any

from im_runtime import UnitOfWork

SITES, RESIDENTS, HOUSEHOLDS, CASES, STAFF, OVERRIDES = (
    "sites", "residents", "households", "cases", "staff", "overrides")


need = UnitOfWork.need  # NotFound naming the missing thing


async def site(uow: UnitOfWork, site_id: str) -> dict[str, Any]:
    return await need(uow, SITES, site_id, "site")


async def resident(uow: UnitOfWork, resident_id: str) -> dict[str, Any]:
    return await need(uow, RESIDENTS, resident_id, "resident")


async def household(uow: UnitOfWork, household_id: str) -> dict[str, Any]:
    return await need(uow, HOUSEHOLDS, household_id, "household")


async def case(uow: UnitOfWork, case_id: str) -> dict[str, Any]:
    return await need(uow, CASES, case_id, "case")


async def members(uow: UnitOfWork, hh: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for rid in hh["member_ids"]:
        doc = await uow.get(RESIDENTS, rid)
        if doc is not None:
            out.append(doc)
    return out
