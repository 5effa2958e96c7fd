"""Education's commands (`im.cmd.education.<name>`) and the views it replies with."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from contracts._base import Command, Reply, Struct
from contracts.education import (
    AccessKind,
    CourseKind,
    CourseStatus,
    Id,
    Level,
    Provider,
)
from contracts.fields import Language, Limit, Offset, Reason, Text

Seats = Annotated[int, msgspec.Meta(ge=0, le=500)]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
EnrolmentStatus = Literal["confirmed", "waitlisted", "withdrawn", "completed"]
AccessStatus = Literal["open", "offered", "placed", "declined"]


class Session(Struct):
    """One weekly session: weekday, start (HH:MM) and length."""

    weekday: Weekday
    starts_at: Annotated[str, msgspec.Meta(pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")]
    minutes: Annotated[int, msgspec.Meta(ge=15, le=480)] = 90


class CreateCourse(Command):
    """A course held at a shelter (`site_id`) or at an external `address`.
    `provider_id` names the organisation; a provider may create only its own courses."""

    course_id: Id
    kind: CourseKind
    level: Level | None = None
    title: Text
    provider: Provider
    provider_id: Id | None = None
    site_id: Id | None = None
    address: Text | None = None
    starts: date
    ends: date
    sessions: Annotated[list[Session], msgspec.Meta(max_length=14)] = []
    capacity: Seats
    childcare_places: Seats = 0
    languages: Annotated[list[Language], msgspec.Meta(min_length=1, max_length=5)] = \
        msgspec.field(default_factory=lambda: ["de"])
    status: Literal["planned", "running"] = "planned"


class ChangeCourse(Command):
    """Change seats or childcare places (the waitlists are re-balanced) or the status
    (planned → running → finished); a field left out stays as it is."""

    course_id: Id
    capacity: Seats | None = None
    childcare_places: Seats | None = None
    status: Literal["planned", "running", "finished"] | None = None


class CancelCourse(Command):
    course_id: Id
    reason: Reason


class Enrol(Command):
    """Enrol a resident: a seat while one is free, else the waitlist. `children` are the
    resident's children (their pseudonymous ids) for the course's childcare."""

    course_id: Id
    resident_id: Id
    children: Annotated[list[Id], msgspec.Meta(max_length=8)] = []


class RegisterChildren(Command):
    enrolment_id: Id
    children: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=8)]


class Withdraw(Command):
    enrolment_id: Id
    reason: Reason


class RecordAttendance(Command):
    enrolment_id: Id
    session_on: date
    present: bool


class CompleteEnrolment(Command):
    """The result: passed or not, and for integration courses the certificate level."""

    enrolment_id: Id
    passed: bool
    certificate_level: Level | None = None


class RequestAccess(Command):
    """Ask for a Kita or school place for a child (`resident_id`)."""

    resident_id: Id
    parent_id: Id | None = None
    kind: AccessKind
    district: Text


class OfferAccessPlace(Command):
    request_id: Id
    institution: Text
    starts: date


class ConcludeAccess(Command):
    """The family's answer to an offered place: placed (accepted) or declined."""

    request_id: Id
    outcome: Literal["placed", "declined"]
    reason: Reason | None = None


class GetCourse(Command):
    course_id: Id


class ListCourses(Command):
    site_id: Id | None = None
    kind: CourseKind | None = None
    status: CourseStatus | None = None
    provider_id: Id | None = None  # a provider's own courses (its worklist)
    offset: Offset = 0
    limit: Limit = 50
    district: Text | None = None  # the courses held at the sites of this district


class GetEnrolment(Command):
    enrolment_id: Id


class ListAccessRequests(Command):
    """Kita and school requests not yet concluded (or in `status`), the longest waiting
    first; a social worker's: those of her sites."""

    kind: AccessKind | None = None
    site_id: Id | None = None
    district: Text | None = None
    status: AccessStatus | None = None  # None: open and offered
    offset: Offset = 0
    limit: Limit = 50


class GetCourseRoster(Command):
    """Who is enrolled in a course, waiting or done, with the class register so far."""

    course_id: Id


# replies --------------------------------------------------------------------------------

class CourseView(Reply):
    course_id: str
    kind: CourseKind
    level: Level | None = None
    title: str
    provider: Provider
    provider_id: str | None = None
    site_id: str | None = None
    address: str | None = None
    starts: date
    ends: date
    sessions: list[Session] = []
    languages: list[str] = []
    state: CourseStatus  # `status` is the reply tag
    capacity: int
    confirmed: int
    waitlisted: int
    childcare_places: int = 0
    childcare_taken: int = 0
    childcare_waitlisted: int = 0
    # Session days up to today whose register misses someone (in list_courses only).
    sessions_to_register: int | None = None


class RosterEntry(Struct):
    """One enrolment of a course: pseudonymous ids only (names stay in housing)."""

    enrolment_id: str
    resident_id: str
    state: EnrolmentStatus
    position: int | None = None  # on the waitlist
    attendance: dict[str, bool] = {}  # session day (ISO date) -> present
    attendance_rate: float | None = None
    passed: bool | None = None
    certificate_level: Level | None = None


class SessionDay(Struct):
    on: date
    recorded: int  # confirmed participants with a mark for the day
    expected: int  # confirmed participants


class CourseRoster(Reply):
    course: CourseView
    entries: list[RosterEntry] = []
    # The course's session days from its start until today (or its end), oldest first.
    sessions_due: list[SessionDay] = []


class AccessPage(Reply):
    items: list[AccessRequestView]
    total: int
    offset: int
    limit: int


class CoursePage(Reply):
    items: list[CourseView]
    total: int
    offset: int
    limit: int


class ChildcareView(Struct):
    child_id: str
    state: Literal["placed", "waitlisted", "pending"]
    position: int | None = None


class EnrolmentView(Reply):
    """`position` is the place on the waitlist (1 = next), None once confirmed."""

    enrolment_id: str
    course_id: str
    resident_id: str
    state: EnrolmentStatus
    position: int | None = None
    attendance_rate: float | None = None
    passed: bool | None = None
    certificate_level: Level | None = None
    children: list[ChildcareView] = []


class AccessRequestView(Reply):
    request_id: str
    resident_id: str
    parent_id: str | None = None
    kind: AccessKind
    district: str
    state: AccessStatus
    institution: str | None = None
    starts: date | None = None
    reason: str | None = None
    site_id: str | None = None
    opened_at: datetime | None = None  # None for requests from before it was kept


class ListLanguageWaiting(Command):
    """Adults living in city accommodation who wait for a language course: with no seat in
    one (nor an integration course passed), or on a waitlist. Those with nothing first,
    then by the time they have lived at their site; a social worker's: her sites'."""

    site_id: Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")] | None = None
    district: Text | None = None
    state: Literal["none", "waitlisted"] | None = None  # None: both
    offset: Offset = 0
    limit: Limit = 50


class LanguageWaiting(Struct):
    resident_id: str
    site_id: str
    district: str | None = None
    state: Literal["none", "waitlisted"]
    since: date | None = None  # at the site since (None: placed before it was kept)
    course_id: str | None = None  # the course whose waitlist they are on
    position: int | None = None


class LanguageWaitingPage(Reply):
    items: list[LanguageWaiting]
    total: int
    offset: int
    limit: int
