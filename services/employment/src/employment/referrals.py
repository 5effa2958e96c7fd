"""Counselling referrals with topic `work_qualification` open a coaching need. The
referral is answered with the shared contract: accepted (a coaching need), rejected with
the eligibility reason when open programmes exist and none admits the resident, and
completed when the resident completes a programme (with or without a placement)."""

from __future__ import annotations

import uuid
from typing import Any

from contracts import CloudEvent
from contracts.counselling import ReferralRequested
from contracts.employment import SERVICE, CoachingNeedOpened
from contracts.referrals import ReferralAccepted, ReferralCompleted, ReferralRejected
from employment import store
from employment.domain import eligibility
from im_runtime import Conflict, UnitOfWork

TOPICS = ("work_qualification",)


def need_id(referral_id: str) -> str:
    """The same referral, sent again under a new event id, names the same need."""
    return f"n-{uuid.uuid5(uuid.NAMESPACE_URL, referral_id).hex[:16]}"


async def on_referral_requested(event: CloudEvent[ReferralRequested], uow: UnitOfWork) -> None:
    ref = event.data  # a topic of TOPICS (the route's `where`, plugin.py)
    nid = need_id(ref.referral_id)
    if await uow.get(store.NEEDS, nid) is not None:
        return  # answered already
    answer: dict[str, Any] = {"referral_id": ref.referral_id, "resident_id": ref.resident_id,
                              "operator_id": ref.operator_id, "topic": ref.topic,
                              "service": SERVICE}
    resident = await uow.get(store.RESIDENTS, ref.resident_id)
    if resident is None or resident.get("birth_year") is None:
        uow.emit(ReferralRejected(**answer, reason=f"resident {ref.resident_id} is not "
                                                   f"registered with housing"))
        return
    if (reason := await _not_admitted(uow, resident)) is not None:
        uow.emit(ReferralRejected(**answer, reason=reason))
        return
    uow.put(store.NEEDS, {"_id": nid, "resident_id": ref.resident_id, "open": True,
                          "referral_id": ref.referral_id, "operator_id": ref.operator_id,
                          "site_id": ref.site_id, "requested_on": ref.requested_on.isoformat()})
    uow.emit(CoachingNeedOpened(resident_id=ref.resident_id, need_id=nid,
                                referral_id=ref.referral_id))
    uow.emit(ReferralAccepted(**answer, became="coaching_need", reference=nid))


async def _not_admitted(uow: UnitOfWork, resident: dict[str, Any]) -> str | None:
    """The eligibility reason when open phases exist and none admits the resident."""
    reasons: list[str] = []
    for phase in await uow.find(store.PHASES, {"status": {"$in": ["planned", "open", "running"]}},
                                sort=[("_id", 1)]):
        programme = await uow.get(store.PROGRAMMES, phase["programme_id"])
        if programme is None:
            continue
        try:
            eligibility(programme, phase, resident)
        except Conflict as exc:
            reasons.append(str(exc))
            continue
        return None
    return reasons[0] if reasons else None


async def complete_referrals(uow: UnitOfWork, resident_id: str, reference: str,
                             outcome: str) -> None:
    """The resident completed a programme: every open referral's need is done with it."""
    for need in await uow.find(store.NEEDS, {"resident_id": resident_id}):
        if need.get("referral_id") is None or need.get("referral_completed"):
            continue
        need["referral_completed"] = True
        uow.put(store.NEEDS, need)
        uow.emit(ReferralCompleted(
            referral_id=need["referral_id"], resident_id=resident_id,
            operator_id=need["operator_id"], topic=TOPICS[0], service=SERVICE,
            became="placement" if outcome == "placed" else "participation",
            reference=reference, outcome=outcome))
