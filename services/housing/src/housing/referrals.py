"""Counselling referrals with topic `housing_search` open (or link to) a move-out case;
one that cannot be helped yet is answered with a rejection that says why. Answers use the
shared referral contract; the topic is declared in the spec (`TOPICS`)."""

from __future__ import annotations

from typing import Any

from contracts import SYSTEM, CloudEvent
from contracts.counselling import ReferralRequested
from contracts.housing import SERVICE
from contracts.referrals import ReferralAccepted, ReferralRejected
from housing import store
from housing.moveout import open_case
from im_runtime import UnitOfWork

TOPICS = ("housing_search",)


async def on_referral_requested(event: CloudEvent[ReferralRequested], uow: UnitOfWork) -> None:
    ref = event.data  # a topic of TOPICS (the route's `where`, plugin.py)
    answer: dict[str, Any] = {"referral_id": ref.referral_id, "resident_id": ref.resident_id,
                              "operator_id": ref.operator_id, "topic": ref.topic,
                              "service": SERVICE}
    resident = await uow.get(store.RESIDENTS, ref.resident_id)
    if resident is None:
        uow.emit(ReferralRejected(**answer, reason=f"resident {ref.resident_id} is not "
                                                          f"registered with housing"))
        return
    if not resident.get("site_id"):
        uow.emit(ReferralRejected(**answer, reason="the resident has no active placement "
                                                          "in city accommodation"))
        return
    hh = await uow.get(store.HOUSEHOLDS, resident["household_id"]) or {}
    linked = await uow.get(store.CASES, hh["case_id"]) if hh.get("case_id") else None
    if linked and any(r["referral_id"] == ref.referral_id for r in linked["referrals"]):
        return  # this referral was answered already (sent again under a new event id)
    case = await open_case(uow, SYSTEM, resident["household_id"], {
        "referral_id": ref.referral_id, "resident_id": ref.resident_id,
        "operator_id": ref.operator_id})
    uow.emit(ReferralAccepted(**answer, became="case", reference=case["_id"]))
