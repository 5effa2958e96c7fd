"""Typed access to housing's documents through the unit of work."""

from __future__ import annotations

from typing import Any

from im_runtime import NotFound, UnitOfWork
from im_runtime.anonymous import NOT_STAND_IN

SITES, RESIDENTS, HOUSEHOLDS, CASES, STAFF, OVERRIDES = (
    "sites", "residents", "households", "cases", "staff", "overrides")


need = UnitOfWork.need  # NotFound naming the missing thing
# Anonymous stand-ins of erased residents' records keep the city's figures; lists and
# views of people leave them out.
PEOPLE_ONLY = NOT_STAND_IN  # a filter: real records, no stand-ins


async def _real(uow: UnitOfWork, collection: str, id: str, what: str) -> dict[str, Any]:
    doc = await need(uow, collection, id, what)
    if doc.get("anonymised"):
        raise NotFound(f"no {what} {id!r}", details={f"{what}_id": id})
    return doc


async def site(uow: UnitOfWork, site_id: str) -> dict[str, Any]:
    return await need(uow, SITES, site_id, "site")


async def resident(uow: UnitOfWork, resident_id: str) -> dict[str, Any]:
    return await _real(uow, RESIDENTS, resident_id, "resident")


async def household(uow: UnitOfWork, household_id: str) -> dict[str, Any]:
    return await need(uow, HOUSEHOLDS, household_id, "household")


async def case(uow: UnitOfWork, case_id: str) -> dict[str, Any]:
    return await _real(uow, CASES, case_id, "case")


async def members(uow: UnitOfWork, hh: dict[str, Any]) -> list[dict[str, Any]]:
    out = []
    for rid in hh["member_ids"]:
        doc = await uow.get(RESIDENTS, rid)
        if doc is not None:
            out.append(doc)
    return out
