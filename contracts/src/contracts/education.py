"""Education's events: courses, enrolments with waitlists, attendance, completion,
Kita and school access. Other services (employment) build projections from them."""

from __future__ import annotations

from datetime import date
from typing import Literal

from contracts._base import EventData
from contracts.fields import Id
from contracts.referrals import (
    ServiceReferralAccepted,
    ServiceReferralCompleted,
    ServiceReferralRejected,
)

SERVICE = "education"

CourseKind = Literal["integration_course", "arrival_course", "parents_cafe", "literacy", "other"]
Level = Literal["A1", "A2", "B1"]
CourseStatus = Literal["planned", "running", "finished", "cancelled"]
Provider = Literal["adult_education_centre", "operator", "volunteers", "other"]
AccessKind = Literal["kita", "school"]
# Courses that count as a language course for other services' requirements.
LANGUAGE_KINDS: frozenset[str] = frozenset({"integration_course", "arrival_course", "literacy"})


class _EnrolmentEvent(EventData):
    resident_id: Id
    enrolment_id: Id
    course_id: Id
    course_kind: CourseKind
    site_id: str | None = None

    def resident_key(self) -> str | None:
        return self.resident_id


class CourseCreated(EventData, tag="im.education.course_created.v1"):
    course_id: Id
    kind: CourseKind
    level: Level | None = None
    title: str
    provider: Provider
    site_id: str | None = None
    capacity: int
    childcare_places: int = 0
    starts: date
    ends: date


class CourseChanged(EventData, tag="im.education.course_changed.v1"):
    course_id: Id
    capacity: int
    childcare_places: int
    status: CourseStatus


class CourseCancelled(EventData,
                      tag="im.education.course_cancelled.v1"):
    course_id: Id
    reason: str


class EnrolmentConfirmed(_EnrolmentEvent,
                         tag="im.education.enrolment_confirmed.v1"):
    pass


class EnrolmentConfirmedV2(EnrolmentConfirmed,
                           tag="im.education.enrolment_confirmed.v2"):
    """Version 2: v1's fields plus the course's weekly hours (sum of its sessions), when
    known. Consumers accept both versions while education v1 and v2 run side by side."""

    hours_per_week: float | None = None


class EnrolmentWaitlisted(_EnrolmentEvent,
                          tag="im.education.enrolment_waitlisted.v1"):
    position: int


class EnrolmentPromoted(_EnrolmentEvent,
                        tag="im.education.enrolment_promoted.v1"):
    """A waitlisted enrolment got a seat: from now on it counts as confirmed."""


class EnrolmentWithdrawn(_EnrolmentEvent,
                         tag="im.education.enrolment_withdrawn.v1"):
    reason: str
    was: Literal["confirmed", "waitlisted"] = "confirmed"


class AttendanceRecorded(_EnrolmentEvent,
                         tag="im.education.attendance_recorded.v1"):
    session_on: date
    present: bool
    rate: float


class EnrolmentCompleted(_EnrolmentEvent,
                         tag="im.education.enrolment_completed.v1"):
    passed: bool
    certificate_level: Level | None = None


class AccessRequestOpened(EventData,
                          tag="im.education.access_request_opened.v1"):
    request_id: Id
    resident_id: Id  # the child
    kind: AccessKind
    district: str
    site_id: str | None = None
    # No longer set (always None): the parent's id must not travel keyed by the child
    # (an erasure of the parent would not reach it). Kept so earlier messages decode.
    parent_id: str | None = None
    referral_id: str | None = None

    def resident_key(self) -> str | None:
        return self.resident_id


class AccessPlaceOffered(AccessRequestOpened,
                         tag="im.education.access_place_offered.v1"):
    institution: str
    starts: date


class AccessRequestPlaced(AccessRequestOpened,
                          tag="im.education.access_request_placed.v1"):
    institution: str
    starts: date


class AccessRequestDeclined(AccessRequestOpened,
                            tag="im.education.access_request_declined.v1"):
    reason: str


class _ChildcareEvent(EventData):
    resident_id: Id  # the child
    parent_id: Id
    enrolment_id: Id
    course_id: Id

    def resident_key(self) -> str | None:
        return self.resident_id


class ChildcarePlaceAllotted(_ChildcareEvent,
                             tag="im.education.childcare_place_allotted.v1"):
    pass


class ChildcareWaitlisted(_ChildcareEvent,
                          tag="im.education.childcare_waitlisted.v1"):
    position: int


class ChildcareReleased(_ChildcareEvent,
                        tag="im.education.childcare_released.v1"):
    was: Literal["placed", "waitlisted"] = "placed"


# Version 2 of the childcare events names only the child: v1 carried the parent's id in
# the body while keyed by the child, so an erasure of the parent (which removes messages
# by the last subject token) left the parent's id on the bus. The parent's side is their
# enrolment (`enrolment_id`, keyed by the parent in education's own records). v1 is no
# longer published and still decodes, for logs that hold it.

class _ChildcareEventV2(EventData):
    resident_id: Id  # the child
    enrolment_id: Id
    course_id: Id

    def resident_key(self) -> str | None:
        return self.resident_id


class ChildcarePlaceAllottedV2(_ChildcareEventV2,
                               tag="im.education.childcare_place_allotted.v2"):
    pass


class ChildcareWaitlistedV2(_ChildcareEventV2,
                            tag="im.education.childcare_waitlisted.v2"):
    position: int


class ChildcareReleasedV2(_ChildcareEventV2,
                          tag="im.education.childcare_released.v2"):
    was: Literal["placed", "waitlisted"] = "placed"


# Referral answers before the shared contract (contracts.referrals): no longer published,
# still decoded, for replay of logs that hold them.

class EducationReferralAccepted(ServiceReferralAccepted,
                                tag="im.education.referral_accepted.v1"):
    pass


class EducationReferralRejected(ServiceReferralRejected,
                                tag="im.education.referral_rejected.v1"):
    pass


class EducationReferralCompleted(ServiceReferralCompleted,
                                 tag="im.education.referral_completed.v1"):
    pass
