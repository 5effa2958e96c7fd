"""The owning services' answers to referrals, in the shared contract
(`contracts.referrals`), from whichever service declared the topic: counselling names
none of them. An answer that cannot be right (another service's topic, a referral that
does not exist, a body naming another service than its source) is dead-lettered with the
reason and changes nothing. The per-service answer types of before are still taken, for
replay of logs that hold them."""

from __future__ import annotations

from typing import Any

from contracts import CloudEvent
from contracts.referrals import (
    ReferralAccepted,
    ReferralCompleted,
    ReferralRejected,
    ServiceReferralAccepted,
    ServiceReferralCompleted,
    ServiceReferralRejected,
)
from counselling import store
from counselling.referrals import advance
from im_runtime import Reject, UnitOfWork

Answer = ReferralAccepted | ReferralRejected | ReferralCompleted


async def on_answer(event: CloudEvent[Answer], uow: UnitOfWork) -> None:
    data, by = event.data, event.source
    if data.service != by:
        raise Reject(f"the answer names service {data.service!r} but its source is {by!r}")
    doc = await uow.get(store.REFERRALS, store.key(data.operator_id, data.referral_id))
    if doc is None:
        raise Reject(f"no referral {data.referral_id!r} of operator {data.operator_id!r}")
    if doc["topic"] != data.topic or doc["owner"] not in (by, "any"):
        raise Reject(f"service {by!r} does not handle topic {doc['topic']!r} of referral "
                     f"{data.referral_id!r} (its owner is {doc['owner']!r})")
    apply(uow, doc, by, data)


async def on_service_answer(event: CloudEvent[Any], uow: UnitOfWork) -> None:
    """A per-service answer of before (HousingReferralAccepted, ...), in a replay: taken as
    it was then, an answer from another than the owner ignored."""
    data, by = event.data, event.source
    doc = await uow.get(store.REFERRALS, store.key(data.operator_id, data.referral_id))
    if doc is None or doc["owner"] not in (by, "any"):
        return
    apply(uow, doc, by, data)


def apply(uow: UnitOfWork, doc: dict[str, Any], by: str, data: Any) -> None:
    """Move the referral on by an answer of either contract (the old ones name no
    `became`)."""
    became = getattr(data, "became", None)
    if isinstance(data, ReferralAccepted | ServiceReferralAccepted):
        advance(uow, doc, "accepted", by, reference=data.reference, became=became)
    elif isinstance(data, ReferralRejected | ServiceReferralRejected):
        advance(uow, doc, "rejected", by, reason=data.reason)
    elif isinstance(data, ReferralCompleted | ServiceReferralCompleted):
        advance(uow, doc, "completed", by, reference=data.reference, outcome=data.outcome,
                became=became)
