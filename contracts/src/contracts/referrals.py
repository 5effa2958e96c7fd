"""Referral topics and the shapes of the answers the owning services give to a
referral (each service subclasses them with its own event type names)."""

from __future__ import annotations

from typing import Literal

from contracts._base import EventData

Topic = Literal["housing_search", "language_course", "kita_school", "work_qualification",
                "volunteers", "authorities", "neighbourhood"]


class ReferralAnswer(EventData, frozen=True, kw_only=True):
    referral_id: str
    resident_id: str
    operator_id: str
    topic: Topic

    def resident_key(self) -> str | None:
        return self.resident_id


class ReferralAccepted(ReferralAnswer, frozen=True, kw_only=True):
    # What the service opened for it (a move-out case, an enrolment request, ...).
    reference: str


class ReferralRejected(ReferralAnswer, frozen=True, kw_only=True):
    reason: str


class ReferralCompleted(ReferralAnswer, frozen=True, kw_only=True):
    reference: str
    outcome: str
