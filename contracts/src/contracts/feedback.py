"""Feedback to one operator, on `im.fb.<operator_id>.<event>.<resident_id>` (stream
IM_FEEDBACK), which the bus lets only that operator read: the way of each referral it
made. No notes, no health details: ids, topic, state and the owning service's answer."""

from __future__ import annotations

from contracts._base import EventData
from contracts.fields import Id
from contracts.referrals import Topic

SERVICE = "feedback"

# Who handles a referral: the service that declared its topic (a plugin too), the city
# team itself (kept in counselling), or `any` (referrals made before topics were declared).
Owner = Id


class ReferralFeedback(EventData):
    """What the operator that made a referral is told. The names end in `Feedback`: the
    owning service's own answers are `contracts.referrals.Referral{Accepted,...}`."""

    operator_id: str
    referral_id: str
    resident_id: str
    site_id: str
    topic: Topic

    def resident_key(self) -> str | None:
        return self.resident_id


class ReferralReceivedFeedback(ReferralFeedback,
                               tag="im.feedback.referral_received.v1"):
    """Counselling took the referral and handed it on (state `requested`)."""

    owner: Owner


class ReferralAcceptedFeedback(ReferralFeedback,
                               tag="im.feedback.referral_accepted.v1"):
    by: str
    reference: str
    became: str | None = None  # a case, an enrolment, a coaching need, a tandem, ...


class ReferralRejectedFeedback(ReferralFeedback,
                               tag="im.feedback.referral_rejected.v1"):
    by: str
    reason: str


class ReferralCompletedFeedback(ReferralFeedback,
                                tag="im.feedback.referral_completed.v1"):
    by: str
    reference: str
    outcome: str
    became: str | None = None
