"""Counselling's events: what operators' counselling hands on to the city."""

from __future__ import annotations

from datetime import date
from typing import Literal

from contracts._base import Command, EventData, Reply
from contracts.referrals import Topic

SERVICE = "counselling"


class ReferralRequested(EventData, frozen=True, kw_only=True,
                        tag="im.counselling.referral_requested.v1"):
    """Counselling accepted an operator's referral and hands it to the city's services."""

    referral_id: str
    resident_id: str
    operator_id: str
    site_id: str
    topic: Topic
    requested_on: date

    def resident_key(self) -> str | None:
        return self.resident_id


# The city team's own referrals (topics `authorities`, `neighbourhood`): its answers -----

CityAnswer = Literal["accepted", "rejected", "completed"]
ReferralState = Literal["requested", "accepted", "rejected", "completed"]


class AnswerCityReferral(Command, frozen=True, kw_only=True):
    """The city team accepts, rejects (with a reason) or completes one of its referrals."""

    referral_id: str
    answer: CityAnswer
    reason: str | None = None
    reference: str | None = None
    outcome: str | None = None


class ReferralView(Reply, frozen=True, kw_only=True):
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
