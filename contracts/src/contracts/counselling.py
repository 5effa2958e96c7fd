"""Counselling's events: what operators' counselling hands on to the city."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from contracts._base import Command, EventData, Reply, Struct
from contracts.operator import Category
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


class ListReferrals(Command):
    """Referrals waiting for an answer (or in `state`), the oldest first; a social
    worker's: those of her sites."""

    owner: Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_-]{0,63}$")] | None = None
    topic: Topic | None = None
    site_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    state: ReferralState | None = None  # None: requested or accepted
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 50
    overdue: bool | None = None  # True: only those waiting longer than the answer time
    district: Annotated[str, msgspec.Meta(min_length=1, max_length=200)] | None = None


class ListCaseNotes(Command):
    """An operator's own case notes about a resident, the newest first. Only the operator
    that wrote them reads them: nobody else, not the city."""

    resident_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 50


class CaseNote(Struct):
    note_id: str
    site_id: str
    written_on: date
    category: Category | None = None
    text: str


class CaseNotePage(Reply):
    resident_id: str
    items: list[CaseNote]
    total: int
    offset: int
    limit: int


class GetReferral(Command):
    """One referral with its trail."""

    referral_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


class ReferralItem(Struct):
    referral_id: str
    resident_id: str
    operator_id: str
    site_id: str
    topic: Topic
    owner: str
    state: ReferralState
    requested_on: date
    overdue: bool = False
    became: str | None = None


class ReferralPage(Reply):
    items: list[ReferralItem]
    total: int
    offset: int
    limit: int


class ReferralStep(Struct):
    state: ReferralState
    by: str  # the operator (requested), the answering service or the city team
    at: datetime | None = None
    reason: str | None = None
    reference: str | None = None
    outcome: str | None = None


class ReferralTrail(Reply):
    referral: ReferralItem
    requested_at: datetime  # when counselling took it
    reason: str | None = None
    reference: str | None = None
    outcome: str | None = None
    trail: list[ReferralStep] = []  # kept from this version on


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
