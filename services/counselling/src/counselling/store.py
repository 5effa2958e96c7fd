"""Counselling's documents and their keys. Operators choose their own ids, so every
record an operator sends is keyed by operator and id: two operators never collide."""

from __future__ import annotations

from typing import Any

from im_runtime import NotFound, UnitOfWork

SITES, RESIDENTS, CASES, SESSIONS, NOTES, INCIDENTS, REFERRALS, TOPICS = (
    "sites", "residents", "cases", "sessions", "notes", "incidents", "referrals", "topics")


def key(operator_id: str, id: str) -> str:
    return f"{operator_id}:{id}"


async def referral(uow: UnitOfWork, operator_id: str, referral_id: str) -> dict[str, Any]:
    doc = await uow.get(REFERRALS, key(operator_id, referral_id))
    if doc is None:
        raise NotFound(f"no referral {referral_id!r} of operator {operator_id!r}",
                       details={"referral_id": referral_id})
    return doc


async def referral_by_id(uow: UnitOfWork, referral_id: str) -> dict[str, Any]:
    found = await uow.find(REFERRALS, {"referral_id": referral_id})
    if len(found) != 1:
        raise NotFound(f"no referral {referral_id!r}" if not found else
                       f"referral id {referral_id!r} is ambiguous",
                       details={"referral_id": referral_id})
    return found[0]
