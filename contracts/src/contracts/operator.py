"""Operators' events: what a shelter operator's own case system publishes on
`im.ops.<operator_id>.<event>[.<resident_id>]`, in CloudEvents JSON, with `source` set
to the operator id. Counselling consumes them behind the trust boundary (subject operator
= source, the site run by that operator). Only ids, categories, dates and counts travel
beyond counselling; a case note's text stays in counselling."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from contracts._base import EventData
from contracts.fields import Id
from contracts.referrals import Topic

SERVICE = "operator"

Category = Literal["social_law", "authorities", "correspondence", "asylum_law",
                   "children_youth", "health", "parenting_education", "life_conflict"]
CATEGORIES: tuple[Category, ...] = ("social_law", "authorities", "correspondence", "asylum_law",
                                    "children_youth", "health", "parenting_education",
                                    "life_conflict")
Severity = Literal["low", "medium", "high", "critical"]
Minutes = Annotated[int, msgspec.Meta(ge=1, le=600)]
NoteText = Annotated[str, msgspec.Meta(min_length=1, max_length=20_000)]


class _AboutResident(EventData):
    resident_id: Id
    site_id: Id

    def resident_key(self) -> str | None:
        return self.resident_id


class SessionRecorded(_AboutResident,
                      tag="im.operator.session_recorded.v1"):
    """A counselling session held by the operator's social worker."""

    session_id: Id
    category: Category
    held_on: date
    duration_minutes: Minutes
    interpreter: bool = False
    # The counsellor's pseudonym in the operator's system, never a name.
    counsellor: Id
    follow_up_on: date | None = None
    # A referral to the city's integration management arising from the session.
    referral: Topic | None = None


class CaseNoteRecorded(_AboutResident,
                       tag="im.operator.case_note_recorded.v1"):
    """Free text about a resident's case: kept by counselling, never passed on."""

    note_id: Id
    written_on: date
    category: Category | None = None
    text: NoteText


class IncidentRecorded(EventData,
                       tag="im.operator.incident_recorded.v1"):
    """A conflict incident at a shelter (about the site, not one resident)."""

    incident_id: Id
    site_id: Id
    occurred_on: date
    severity: Severity
    people_involved: Annotated[int, msgspec.Meta(ge=1, le=1000)]
    resolved: bool = False


class OperatorReferralRequested(_AboutResident,
                                tag="im.operator.referral_requested.v1"):
    """The operator refers a resident to the city's integration management."""

    referral_id: Id
    topic: Topic
    requested_on: date
    session_id: Id | None = None


OperatorEvent = (SessionRecorded | CaseNoteRecorded | IncidentRecorded
                 | OperatorReferralRequested)
EVENTS: tuple[type[EventData], ...] = (SessionRecorded, CaseNoteRecorded, IncidentRecorded,
                                       OperatorReferralRequested)
