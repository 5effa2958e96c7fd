"""Counselling referrals with topic `housing_search` open (or link to) a move-out case;
one that cannot be helped yet is answered with a rejection that says why."""

from __future__ import annotations

from typing import Any

from contracts import SYSTEM, CloudEvent
from contracts.counselling import ReferralRequested
from contracts.housing import HousingReferralAccepted, HousingReferralRejected
from housing import store
from housing.moveout import open_case
from im_runtime import UnitOfWork


async def on_referral_requested(event: CloudEvent[ReferralRequested], uow: UnitOfWork) -> None:
    ref = event.data
    if ref.topic != "housing_search":
        return
    answer: dict[str, Any] = {"referral_id": ref.referral_id, "resident_id": ref.resident_id,
                              "operator_id": ref.operator_id, "topic": ref.topic}
    resident = await uow.get(store.RESIDENTS, ref.resident_id)
    if resident is None:
        uow.emit(HousingReferralRejected(**answer, reason=f"resident {ref.resident_id} is not "
                                                          f"registered with housing"))
        return
    if not resident.get("site_id"):
        uow.emit(HousingReferralRejected(**answer, reason="the resident has no active placement "
                                                          "in city accommodation"))
        return
    hh = await uow.get(store.HOUSEHOLDS, resident["household_id"]) or {}
    linked = await uow.get(store.CASES, hh["case_id"]) if hh.get("case_id") else None
    if linked and any(r["referral_id"] == ref.referral_id for r in linked["referrals"]):
        return  # this referral was answered already (sent again under a new event id)
    case = await open_case(uow, SYSTEM, resident["household_id"], {
        "referral_id": ref.referral_id, "resident_id": ref.resident_id,
        "operator_id": ref.operator_id})
    uow.emit(HousingReferralAccepted(**answer, reference=case["_id"]))
