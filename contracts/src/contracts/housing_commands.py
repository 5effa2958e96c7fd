"""Housing's commands (`im.cmd.housing.<name>`) and the views it replies with."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from contracts._base import Command, Reply, Struct
from contracts.fields import Id, Language, Limit, Offset, Reason, Text
from contracts.housing import (
    Capacity,
    HelpItem,
    MoveOutReason,
    ResidenceStatus,
    SiteKind,
    Stage,
    ViewingOutcome,
    Wbs,
    Year,
)

Money = Annotated[float, msgspec.Meta(ge=0, le=100_000)]
Rooms = Annotated[int, msgspec.Meta(ge=1, le=20)]


class RegisterSite(Command):
    site_id: Id
    kind: SiteKind
    name: Text
    operator_id: Id | None = None
    address: Text
    district: Text
    capacity: Capacity
    group: Text | None = None


class ChangeSiteCapacity(Command):
    site_id: Id
    capacity: Capacity


class RegisterResident(Command):
    """A new household when `household_id` is None; else joins that household."""

    resident_id: Id | None = None
    household_id: Id | None = None
    given_name: Text
    family_name: Text
    birth_year: Year
    languages: Annotated[list[Language], msgspec.Meta(max_length=10)] = []
    residence_status: ResidenceStatus
    arrival_date: date
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class HouseholdMember(Struct):
    """One person of a household registered together (`RegisterHousehold`)."""

    resident_id: Id | None = None
    given_name: Text
    family_name: Text
    birth_year: Year
    languages: Annotated[list[Language], msgspec.Meta(max_length=10)] = []
    residence_status: ResidenceStatus
    arrival_date: date
    phone: Annotated[str, msgspec.Meta(max_length=40)] | None = None


class RegisterHousehold(Command):
    """A household arriving together, in one step: each member registered as
    `RegisterResident` would, then, with `site_id`, the household placed there on `on` as
    `PlaceHousehold` would; the same events as those commands, in one commit."""

    household_id: Id | None = None
    members: Annotated[list[HouseholdMember], msgspec.Meta(min_length=1, max_length=20)]
    site_id: Id | None = None
    on: date | None = None


class ChangeResidenceStatus(Command):
    resident_id: Id
    residence_status: ResidenceStatus


class CorrectResident(Command):
    """Correct a resident's personal data (Art. 16 GDPR): the fields given change, the
    others stay; `clear_phone` removes the phone number."""

    resident_id: Id
    given_name: Text | None = None
    family_name: Text | None = None
    birth_year: Year | None = None
    languages: Annotated[list[Language], msgspec.Meta(max_length=10)] | None = None
    phone: Annotated[str, msgspec.Meta(min_length=3, max_length=40)] | None = None
    clear_phone: bool = False


class MoveMember(Command):
    """Move a resident to another household at the same site (None: one of their own)."""

    resident_id: Id
    household_id: Id | None = None


class SplitHousehold(Command):
    """These members leave the household for a new one at the same site."""

    household_id: Id
    member_ids: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=19)]
    new_household_id: Id | None = None


class MergeHouseholds(Command):
    """Every member of `from_household_id` joins `household_id`; the first one ends."""

    household_id: Id
    from_household_id: Id


class PlaceHousehold(Command):
    """Move a household in (everyone not yet placed), or transfer it if placed."""

    household_id: Id
    site_id: Id
    on: date
    emergency_override: bool = False
    override_reason: Reason | None = None


class MoveOutHousehold(Command):
    household_id: Id
    reason: MoveOutReason
    on: date


class AssignStaff(Command):
    """Set the sites a city social worker is deployed to (replaces the earlier set)."""

    staff_id: Id
    name: Text
    site_ids: Annotated[list[Id], msgspec.Meta(max_length=50)]


class GetStaff(Command):
    """The sites a city social worker is deployed to now (a read: the gateway asks it for
    the sites of a signed-in social worker)."""

    staff_id: Id


class OpenMoveOutCase(Command):
    household_id: Id


class AdvanceMoveOutCase(Command):
    case_id: Id
    stage: Stage
    reason: Reason | None = None


class SetSearchCriteria(Command):
    case_id: Id
    household_size: Annotated[int, msgspec.Meta(ge=1, le=20)]
    rent_ceiling: Money
    districts: Annotated[list[Text], msgspec.Meta(max_length=20)] = []
    accessible: bool = False
    wbs: Wbs = "none"


class RecordOffer(Command):
    case_id: Id
    landlord: Text
    address: Text
    district: Text | None = None
    rooms: Rooms
    rent: Money
    available_from: date


class RecordViewing(Command):
    case_id: Id
    offer_id: Id
    on: date
    outcome: ViewingOutcome


class TickMovingHelp(Command):
    case_id: Id
    item: HelpItem
    done: bool = True


class GetResident(Command):
    resident_id: Id


class ListSites(Command):
    kind: SiteKind | None = None
    district: Text | None = None
    offset: Offset = 0
    limit: Limit = 50


class GetMoveOutCase(Command):
    """A move-out case in full: criteria, offers, viewings, moving help and history."""

    case_id: Id


class ListMoveOutCases(Command):
    """Move-out cases, the longest in their stage first (a social worker's: her sites')."""

    site_id: Id | None = None
    stage: Stage | None = None
    open: bool = True  # False: the closed ones (moved out, cancelled)
    offset: Offset = 0
    limit: Limit = 50
    district: Text | None = None  # the cases of the sites in this district


class ListDueFollowUps(Command):
    """Open move-out cases where the social worker must do something by `on` (default:
    today): a viewing's outcome to record, an offer nobody has viewed yet, a case that has
    not moved on for weeks. The most overdue first; a social worker's: her sites'."""

    site_id: Id | None = None
    district: Text | None = None
    on: date | None = None
    offset: Offset = 0
    limit: Limit = 50


class ListResidents(Command):
    site_id: Id | None = None
    q: Annotated[str, msgspec.Meta(max_length=100)] | None = None
    offset: Offset = 0
    limit: Limit = 50


# replies --------------------------------------------------------------------------------

class SiteView(Reply):
    site_id: str
    kind: SiteKind
    name: str
    operator_id: str | None
    address: str
    district: str
    capacity: int
    occupancy: int
    group: str | None = None


class ResidentRecord(Reply):
    """Personal data: only in answers to authorised requests."""

    resident_id: str
    household_id: str
    given_name: str
    family_name: str
    birth_year: int
    languages: list[str]
    residence_status: ResidenceStatus
    arrival_date: date
    phone: str | None = None
    site_id: str | None = None


class Placed(Reply):
    household_id: str
    site_id: str
    resident_ids: list[str]
    kind: Literal["placed", "transferred", "moved_out"]
    occupancy: int
    capacity: int


class HouseholdView(Reply):
    household_id: str
    resident_ids: list[str]
    site_id: str | None = None


class Deployment(Struct):
    """One change of a social worker's deployment: the sites from then on."""

    site_ids: list[str]
    at: datetime
    by: str  # who deployed her (a city admin's user name)


class StaffView(Reply):
    staff_id: str
    name: str | None = None  # None: not deployed (never assigned)
    site_ids: list[str] = []
    history: list[Deployment] = []  # the oldest first


class CaseView(Reply):
    case_id: str
    household_id: str
    stage: Stage
    offer_id: str | None = None


class SitePage(Reply):
    items: list[SiteView]
    total: int
    offset: int
    limit: int


class ResidentPage(Reply):
    items: list[ResidentRecord]
    total: int
    offset: int
    limit: int


class CaseCriteria(Struct):
    household_size: int
    rent_ceiling: float
    districts: list[str] = []
    accessible: bool = False
    wbs: Wbs = "none"


class CaseOffer(Struct):
    offer_id: str
    landlord: str
    address: str
    district: str | None = None
    rooms: int
    rent: float
    available_from: date


class CaseViewing(Struct):
    offer_id: str
    on: date
    outcome: ViewingOutcome


class CaseStep(Struct):
    from_stage: Stage
    stage: Stage
    reason: str | None = None
    by: str  # the staff member (or service) that took the step
    at: datetime | None = None  # None for steps taken before it was kept


class CaseDetail(Reply):
    case_id: str
    household_id: str
    resident_id: str  # the applicant
    name: str | None = None  # the applicant's, from the registry
    site_id: str | None = None
    stage: Stage
    opened_at: datetime | None = None
    since: datetime | None = None  # in this stage since
    criteria: CaseCriteria | None = None
    offers: list[CaseOffer] = []
    viewings: list[CaseViewing] = []
    help: dict[str, bool] = {}
    history: list[CaseStep] = []


class CaseSummary(Struct):
    case_id: str
    household_id: str
    resident_id: str
    name: str | None = None
    site_id: str | None = None
    stage: Stage
    opened_at: datetime | None = None
    since: datetime | None = None
    offers: int = 0
    viewings: int = 0


class CasePage(Reply):
    items: list[CaseSummary]
    total: int
    offset: int
    limit: int


FollowUpReason = Literal["viewing_outcome", "arrange_viewing", "next_step"]


class FollowUp(Struct):
    """An open case with what is due on it, and since when (the earliest of its reasons)."""

    case_id: str
    household_id: str
    resident_id: str
    name: str | None = None
    site_id: str | None = None
    stage: Stage
    due_on: date
    reasons: list[FollowUpReason]
    offer_id: str | None = None  # the offer a viewing or its outcome is due for


class FollowUpPage(Reply):
    items: list[FollowUp]
    total: int
    offset: int
    limit: int
