"""Typed access to employment's documents through the unit of work."""

from __future__ import annotations

from typing import Any

from im_runtime import NotFound, UnitOfWork

PROGRAMMES, PHASES, PARTICIPATIONS, RESIDENTS, NEEDS, COACHING, PLACEMENTS = (
    "programmes", "phases", "participations", "residents", "coaching_needs", "coaching",
    "placements")


def phase_key(programme_id: str, number: int) -> str:
    return f"{programme_id}/{number}"


need = UnitOfWork.need  # NotFound naming the missing thing


async def programme(uow: UnitOfWork, programme_id: str) -> dict[str, Any]:
    return await need(uow, PROGRAMMES, programme_id, "programme")


async def phase(uow: UnitOfWork, programme_id: str, number: int) -> dict[str, Any]:
    doc = await uow.get(PHASES, phase_key(programme_id, number))
    if doc is None:
        raise NotFound(f"programme {programme_id!r} has no phase {number}",
                       details={"programme_id": programme_id, "phase": str(number)})
    return doc


async def participation(uow: UnitOfWork, participation_id: str) -> dict[str, Any]:
    doc = await uow.get(PARTICIPATIONS, participation_id)
    if doc is None or doc.get("anonymised"):  # an erased resident's stand-in only counts
        raise NotFound(f"no participation {participation_id!r}",
                       details={"participation_id": participation_id})
    return doc


async def resident(uow: UnitOfWork, resident_id: str) -> dict[str, Any]:
    """Employment's own projection of a resident (from housing's and education's events)."""
    doc = await uow.get(RESIDENTS, resident_id)
    if doc is None or doc.get("birth_year") is None:
        raise NotFound(f"no resident {resident_id!r} known to employment (housing has not "
                       f"announced them)", details={"resident_id": resident_id})
    return doc

