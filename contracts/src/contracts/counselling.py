"""Counselling's events: what operators' counselling hands on to the city."""

from __future__ import annotations

from datetime import date

from contracts._base import EventData
from contracts.referrals import Topic


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


