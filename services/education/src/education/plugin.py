"""The education service's spec: every message it handles and the handler for it."""

from __future__ import annotations

from pymongo import IndexModel

from contracts import education as ev
from contracts import education_commands as cmd
from contracts.counselling import ReferralRequested
from contracts.housing import (
    ResidentCorrected,
    ResidentMovedOut,
    ResidentPlaced,
    ResidentRegistered,
    ResidentTransferred,
    SiteRegistered,
)
from education import (
    attendance,
    courses,
    enrolment,
    erasure,
    language,
    projection,
    queries,
    referrals,
    roster,
    schooling,
    store,
    versions,
    waiting,
)
from im_runtime import Handles, On, ServiceSpec, topic_is, views
from im_runtime.spec import Retention

# Retention defaults: three years after the matter ended (issue #9); the city sets its
# own periods where it runs education, IM_RETENTION_EDUCATION_<NAME> in days. Anonymous
# stand-ins of erased residents hold nothing personal and stay for the statistics.
THREE_YEARS = 1095
PEOPLE = store.PEOPLE_ONLY
RETENTION = (
    # an enrolment, three years after it was completed or withdrawn
    Retention("ended_enrolments", store.ENROLMENTS, after="ended_at", days=THREE_YEARS,
              where=PEOPLE),
    # a Kita or school request, three years after it was placed or declined
    Retention("concluded_access_requests", store.ACCESS, after="closed_at",
              days=THREE_YEARS, where=PEOPLE),
    # a course with its seat lists (they name residents), three years after it ended
    Retention("ended_courses", store.COURSES, after="ends", days=THREE_YEARS, stored="date"),
    # what housing told about a resident, three years after they moved out
    Retention("moved_out_residents", store.RESIDENTS, after="moved_out_on",
              days=THREE_YEARS, stored="date"),
    # the referral ledger (it answers each referral once), three years after the answer
    Retention("answered_referrals", store.REFERRALS, after="answered_at", days=THREE_YEARS),
)

spec = ServiceSpec(
    name=ev.SERVICE,
    version=f"{versions.EVENT_VERSION}.0.0",
    description="Courses, enrolment with waitlists, attendance, childcare, Kita and school access",
    publishes=(ev.CourseCreated, ev.CourseChanged, ev.CourseCancelled,
               ev.EnrolmentConfirmedV2 if versions.EVENT_VERSION == 2 else ev.EnrolmentConfirmed,
               ev.EnrolmentWaitlisted, ev.EnrolmentPromoted, ev.EnrolmentWithdrawn,
               ev.AttendanceRecorded, ev.EnrolmentCompleted, ev.ChildcarePlaceAllottedV2,
               ev.ChildcareWaitlistedV2, ev.ChildcareReleasedV2, ev.AccessRequestOpened,
               ev.AccessPlaceOffered, ev.AccessRequestPlaced, ev.AccessRequestDeclined),
    # Answered with the shared referral contract (contracts.referrals).
    referral_topics=referrals.TOPICS,
    consumes=(
        On(ReferralRequested, where=topic_is(*referrals.TOPICS),
           handler=referrals.on_referral_requested),
        On(ResidentRegistered, ResidentCorrected, handler=projection.on_resident_registered),
        On(SiteRegistered, handler=projection.on_site_registered),
        On(ResidentPlaced, ResidentTransferred, ResidentMovedOut,
           handler=projection.on_resident_moved),
    ),
    commands=(
        Handles("create_course", cmd.CreateCourse, courses.create_course, cmd.CourseView),
        Handles("change_course", cmd.ChangeCourse, courses.change_course, cmd.CourseView),
        Handles("cancel_course", cmd.CancelCourse, courses.cancel_course, cmd.CourseView),
        Handles("get_course", cmd.GetCourse, courses.get_course, cmd.CourseView, read=True),
        Handles("list_courses", cmd.ListCourses, courses.list_courses, cmd.CoursePage, read=True),
        Handles("get_course_roster", cmd.GetCourseRoster, roster.get_course_roster,
                cmd.CourseRoster, read=True),
        Handles("enrol", cmd.Enrol, enrolment.enrol, cmd.EnrolmentView),
        Handles("register_children", cmd.RegisterChildren, enrolment.register_children,
                cmd.EnrolmentView),
        Handles("withdraw", cmd.Withdraw, enrolment.withdraw, cmd.EnrolmentView),
        Handles("get_enrolment", cmd.GetEnrolment, enrolment.get_enrolment, cmd.EnrolmentView,
                read=True),
        Handles("record_attendance", cmd.RecordAttendance, attendance.record_attendance,
                cmd.EnrolmentView),
        Handles("complete_enrolment", cmd.CompleteEnrolment, attendance.complete_enrolment,
                cmd.EnrolmentView),
        Handles("request_access", cmd.RequestAccess, schooling.request_access,
                cmd.AccessRequestView),
        Handles("offer_access_place", cmd.OfferAccessPlace, schooling.offer_place,
                cmd.AccessRequestView),
        Handles("conclude_access", cmd.ConcludeAccess, schooling.conclude,
                cmd.AccessRequestView),
        Handles("list_access_requests", cmd.ListAccessRequests, waiting.list_access_requests,
                cmd.AccessPage, read=True),
        Handles("list_language_waiting", cmd.ListLanguageWaiting,
                language.list_language_waiting, cmd.LanguageWaitingPage, read=True),
    ),
    queries=views(queries.resident_overview, queries.site_overview, queries.city_stats),
    # audited by the gateway
    personal_reads={"get_enrolment": "resident_id", "get_course_roster": "resident_id",
                    "list_access_requests": "resident_id",
                    "list_language_waiting": "resident_id"},
    indexes={
        store.COURSES: [IndexModel("site_id"), IndexModel("kind"), IndexModel("status"),
                        IndexModel("provider_id")],
        store.ENROLMENTS: [IndexModel("resident_id"), IndexModel("course_id"),
                           IndexModel("site_id"), IndexModel("status")],
        store.ACCESS: [IndexModel("resident_id"), IndexModel("parent_id"),
                       IndexModel("site_id"), IndexModel("open"), IndexModel("status"),
                       IndexModel("opened_at")],
        store.RESIDENTS: [], store.SITES: [], store.REFERRALS: [],
    },
    erase=erasure.erase,
    retention=RETENTION,
)
