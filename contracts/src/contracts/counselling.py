"""Counselling's events: what operators' counselling hands on to the city."""

from __future__ import annotations

from datetime import date
from typing import Literal

from contracts._base import Command, EventData, Reply
from contracts.referrals import Topic

SERVICE = "counselling"


class _AboutReferral(EventData):
    """What every event about one operator's referral names."""

    referral_id: str
    resident_id: str
    operator_id: str
    site_id: str
    topic: Topic

    def resident_key(self) -> str | None:
        return self.resident_id


class ReferralRequested(_AboutReferral,
                        tag="im.counselling.referral_requested.v1"):
    """Counselling accepted an operator's referral and hands it to the city's services."""

    requested_on: date


# The city team's own referrals (topics `authorities`, `neighbourhood`): its answers -----

CityAnswer = Literal["accepted", "rejected", "completed"]
ReferralState = Literal["requested", "accepted", "rejected", "completed"]


class AnswerCityReferral(Command):
    """The city team accepts, rejects (with a reason) or completes one of its referrals."""

    referral_id: str
    answer: CityAnswer
    reason: str | None = None
    reference: str | None = None
    outcome: str | None = None
    overdue: bool = False


class ReferralView(Reply):
    referral_id: str
    resident_id: str
    operator_id: str
    site_id: str
    topic: Topic
    owner: str
    state: ReferralState
    reason: str | None = None
    reference: str | None = None
    outcome: str | None = None
    overdue: bool = False


class ReferralOverdue(_AboutReferral,
                      tag="im.counselling.referral_overdue.v1"):
    """A referral has waited longer than counselling's answer time (IM_REFERRAL_ANSWER_HOURS)
    without an answer from the service that owns its topic: it is on the city's worklist."""

    owner: str
    requested_on: date
    waited_hours: float
