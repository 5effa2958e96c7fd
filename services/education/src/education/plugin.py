"""The education service's spec: every message it handles and the handler for it."""

from __future__ import annotations

from pymongo import IndexModel

from contracts import education as ev
from contracts import education_commands as cmd
from contracts.counselling import ReferralRequested
from contracts.housing import (
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
    queries,
    referrals,
    residents,
    schooling,
    store,
    versions,
)
from im_runtime import Handles, On, ServiceSpec, views

spec = ServiceSpec(
    name=ev.SERVICE,
    version=f"{versions.EVENT_VERSION}.0.0",
    description="Courses, enrolment with waitlists, attendance, childcare, Kita and school access",
    publishes=(ev.CourseCreated, ev.CourseChanged, ev.CourseCancelled,
               ev.EnrolmentConfirmedV2 if versions.EVENT_VERSION == 2 else ev.EnrolmentConfirmed,
               ev.EnrolmentWaitlisted, ev.EnrolmentPromoted, ev.EnrolmentWithdrawn,
               ev.AttendanceRecorded, ev.EnrolmentCompleted, ev.ChildcarePlaceAllotted,
               ev.ChildcareWaitlisted, ev.ChildcareReleased, ev.AccessRequestOpened,
               ev.AccessPlaceOffered, ev.AccessRequestPlaced, ev.AccessRequestDeclined,
               ev.EducationReferralAccepted, ev.EducationReferralRejected,
               ev.EducationReferralCompleted),
    consumes=(
        On(ReferralRequested, handler=referrals.on_referral_requested),
        On(ResidentRegistered, handler=residents.on_resident_registered),
        On(SiteRegistered, handler=residents.on_site_registered),
        On(ResidentPlaced, ResidentTransferred, ResidentMovedOut,
           handler=residents.on_resident_moved),
    ),
    commands=(
        Handles("create_course", cmd.CreateCourse, courses.create_course, cmd.CourseView),
        Handles("change_course", cmd.ChangeCourse, courses.change_course, cmd.CourseView),
        Handles("cancel_course", cmd.CancelCourse, courses.cancel_course, cmd.CourseView),
        Handles("get_course", cmd.GetCourse, courses.get_course, cmd.CourseView),
        Handles("list_courses", cmd.ListCourses, courses.list_courses, cmd.CoursePage),
        Handles("enrol", cmd.Enrol, enrolment.enrol, cmd.EnrolmentView),
        Handles("register_children", cmd.RegisterChildren, enrolment.register_children,
                cmd.EnrolmentView),
        Handles("withdraw", cmd.Withdraw, enrolment.withdraw, cmd.EnrolmentView),
        Handles("get_enrolment", cmd.GetEnrolment, enrolment.get_enrolment, cmd.EnrolmentView),
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
    ),
    queries=views(queries.resident_overview, queries.site_overview, queries.city_stats),
    indexes={
        store.COURSES: [IndexModel("site_id"), IndexModel("kind"), IndexModel("status")],
        store.ENROLMENTS: [IndexModel("resident_id"), IndexModel("course_id"),
                           IndexModel("site_id"), IndexModel("status")],
        store.ACCESS: [IndexModel("resident_id"), IndexModel("parent_id"),
                       IndexModel("site_id"), IndexModel("open")],
        store.RESIDENTS: [], store.SITES: [], store.REFERRALS: [],
    },
)
