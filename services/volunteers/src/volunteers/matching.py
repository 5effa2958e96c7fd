"""Proposing matches: for a referral, by hand, and for open requests when a volunteer
gains room. Capacity is counted on the volunteer's document (`load`), so two proposals
for a volunteer's last place conflict and one is retried."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from contracts.referrals import ReferralAccepted, ReferralCompleted
from im_runtime import UnitOfWork
from im_runtime.anonymous import NOT_STAND_IN
from volunteers import store
from volunteers.contracts import SERVICE, MatchProposed
from volunteers.domain import best, free, offer_for

TOPICS = ("volunteers",)


def derived_id(prefix: str, key: str) -> str:
    """The same referral, delivered again under a new event id, names the same thing."""
    return f"{prefix}-{uuid.uuid5(uuid.NAMESPACE_URL, key).hex[:16]}"


def propose(uow: UnitOfWork, volunteer: dict[str, Any], resident_id: str, offer: str,
            match_id: str, request: dict[str, Any] | None = None) -> dict[str, Any]:
    volunteer["load"] += 1
    uow.put(store.VOLUNTEERS, volunteer)
    doc = {"_id": match_id, "volunteer_id": volunteer["_id"], "resident_id": resident_id,
           "offer": offer, "state": "proposed", "outcome": None, "rating": None,
           "request_id": request["_id"] if request else None,
           "referral_id": request.get("referral_id") if request else None}
    uow.put(store.MATCHES, doc)
    if request is not None:
        request["open"], request["match_id"] = False, match_id
        uow.put(store.REQUESTS, request)
    uow.emit(MatchProposed(resident_id=resident_id, match_id=match_id,
                           volunteer_id=volunteer["_id"], offer=offer,  # type: ignore[arg-type]
                           request_id=doc["request_id"], referral_id=doc["referral_id"]))
    if request is not None and request.get("referral_id"):
        uow.emit(ReferralAccepted(**answer(request), became="tandem", reference=match_id))
    return doc


def answer(request: dict[str, Any]) -> dict[str, Any]:
    """The fields of a referral answer about the request a referral opened."""
    return {"referral_id": request["referral_id"], "resident_id": request["resident_id"],
            "operator_id": request["operator_id"],
            "topic": request.get("topic", TOPICS[0]), "service": SERVICE}


async def started(uow: UnitOfWork, match: dict[str, Any]) -> None:
    """A tandem from a referral started: the referral is completed."""
    request = await uow.get(store.REQUESTS, match["request_id"]) if match.get("request_id") \
        else None
    if request is not None and request.get("referral_id"):
        uow.emit(ReferralCompleted(**answer(request), became="tandem", reference=match["_id"],
                                   outcome="started"))


async def candidate(uow: UnitOfWork, resident_id: str, today: date,
                    among: list[dict[str, Any]] | None = None) -> dict[str, Any] | None:
    """The volunteer who fits the resident best (read for update), or None."""
    resident = await uow.get(store.RESIDENTS, resident_id)
    district = await store.district_of(uow, resident)
    languages = (resident or {}).get("languages", [])
    pool = among if among is not None else await uow.find(store.VOLUNTEERS)
    chosen = best(pool, languages, district, today)
    return await uow.get(store.VOLUNTEERS, chosen["_id"]) if chosen else None


async def fill_open_requests(uow: UnitOfWork, volunteer: dict[str, Any], today: date) -> None:
    """Give a volunteer with room the open requests they fit, oldest first."""
    # An erased resident's open request is only counted, never matched.
    wanted = {"open": True, **NOT_STAND_IN}
    for request in await uow.find(store.REQUESTS, wanted, sort=[("_id", 1)]):
        if free(volunteer) <= 0:
            return
        if await candidate(uow, request["resident_id"], today, [volunteer]) is None:
            continue
        propose(uow, volunteer, request["resident_id"], offer_for(volunteer),
                derived_id("m", request["_id"]), request)
