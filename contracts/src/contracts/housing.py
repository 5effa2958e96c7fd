"""Housing: sites, the resident registry, placements, staff deployment, move-out cases.

Events carry no names or contact data: those stay in housing's registry and leave it
only in answers to authorised queries (`ResidentRecord`)."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from contracts._base import EventData
from contracts.fields import Id
from contracts.referrals import (
    ServiceReferralAccepted,
    ServiceReferralCompleted,
    ServiceReferralRejected,
)

SERVICE = "housing"

SiteKind = Literal["shelter", "apartment"]
ResidenceStatus = Literal["asylum_pending", "recognised_refugee", "subsidiary_protection",
                          "tolerated", "other_permit"]
MoveOutReason = Literal["own_flat", "other_municipality", "departed"]
Stage = Literal["opened", "searching", "offer_received", "viewing", "lease_signed", "moving",
                "moved_out", "paused", "cancelled"]
Wbs = Literal["none", "applied", "granted"]
ViewingOutcome = Literal["accepted", "declined", "refused_by_landlord", "pending"]
HelpItem = Literal["furniture", "address_registration", "utilities", "job_centre"]
Capacity = Annotated[int, msgspec.Meta(ge=0, le=5000)]
Year = Annotated[int, msgspec.Meta(ge=1900, le=2100)]


class _ResidentEvent(EventData):
    resident_id: Id

    def resident_key(self) -> str | None:
        return self.resident_id


# events ---------------------------------------------------------------------------------

class SiteRegistered(EventData, tag="im.housing.site_registered.v1"):
    site_id: Id
    kind: SiteKind
    name: str
    operator_id: Id | None = None
    district: str
    capacity: int
    group: str | None = None


class SiteCapacityChanged(EventData,
                          tag="im.housing.site_capacity_changed.v1"):
    site_id: Id
    capacity: int


class ResidentRegistered(_ResidentEvent,
                         tag="im.housing.resident_registered.v1"):
    household_id: Id
    birth_year: int
    languages: list[str] = []
    residence_status: ResidenceStatus
    arrival_date: date


class ResidenceStatusChanged(_ResidentEvent,
                             tag="im.housing.residence_status_changed.v1"):
    residence_status: ResidenceStatus


class ResidentPlaced(_ResidentEvent,
                     tag="im.housing.resident_placed.v1"):
    household_id: Id
    site_id: Id
    operator_id: Id | None = None
    moved_in: date
    emergency_override: bool = False


class ResidentTransferred(_ResidentEvent,
                          tag="im.housing.resident_transferred.v1"):
    household_id: Id
    from_site_id: Id
    from_operator_id: Id | None = None
    site_id: Id
    operator_id: Id | None = None
    moved_on: date
    emergency_override: bool = False


class ResidentMovedOut(_ResidentEvent,
                       tag="im.housing.resident_moved_out.v1"):
    household_id: Id
    site_id: Id
    operator_id: Id | None = None
    reason: MoveOutReason
    moved_out: date


class ResidentCorrected(_ResidentEvent,
                        tag="im.housing.resident_corrected.v1"):
    """The resident's record was corrected (Art. 16 GDPR) or they moved to another
    household (a split, a merge). Carries what other services keep, as it is now, never
    names or contact data; `corrected` names the fields that changed (names included, so
    that others know a correction happened), `from_household_id` the household left."""

    household_id: Id
    birth_year: int
    languages: list[str] = []
    corrected: list[str]
    from_household_id: Id | None = None


class StaffAssigned(EventData, tag="im.housing.staff_assigned.v1"):
    staff_id: Id
    site_ids: list[str]
    previous_site_ids: list[str] = []


class MoveOutCaseOpened(_ResidentEvent,
                        tag="im.housing.move_out_case_opened.v1"):
    """`resident_id` is the household's applicant; the case covers the household."""

    case_id: Id
    household_id: Id
    site_id: Id | None = None
    referral_id: str | None = None


class MoveOutCaseAdvanced(_ResidentEvent,
                          tag="im.housing.move_out_case_advanced.v1"):
    case_id: Id
    household_id: Id
    from_stage: Stage
    stage: Stage
    reason: str | None = None


class MoveOutCaseClosed(_ResidentEvent,
                        tag="im.housing.move_out_case_closed.v1"):
    case_id: Id
    household_id: Id
    outcome: Literal["moved_out", "cancelled"]
    reason: str | None = None


class OfferRecorded(_ResidentEvent, tag="im.housing.offer_recorded.v1"):
    case_id: Id
    offer_id: Id
    rooms: int
    rent: float
    district: str | None = None


class ViewingRecorded(_ResidentEvent,
                      tag="im.housing.viewing_recorded.v1"):
    case_id: Id
    offer_id: Id
    on: date
    outcome: ViewingOutcome


# Referral answers before the shared contract (contracts.referrals): no longer published,
# still decoded, for replay of logs that hold them.

class HousingReferralAccepted(ServiceReferralAccepted,
                              tag="im.housing.referral_accepted.v1"):
    pass


class HousingReferralRejected(ServiceReferralRejected,
                              tag="im.housing.referral_rejected.v1"):
    pass


class HousingReferralCompleted(ServiceReferralCompleted,
                               tag="im.housing.referral_completed.v1"):
    pass
