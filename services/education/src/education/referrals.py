"""Counselling referrals: `language_course` becomes an enrolment in a suitable course,
`kita_school` an access request; what cannot be done is rejected with the reason."""

from __future__ import annotations

from typing import Any

from contracts import SYSTEM, CloudEvent
from contracts.counselling import ReferralRequested
from contracts.education import LANGUAGE_KINDS, SERVICE
from contracts.referrals import ReferralAccepted, ReferralRejected
from education import store
from education.enrolment import enrol_resident
from education.schooling import open_request
from im_runtime import Conflict, UnitOfWork

KITA_AGE, ADULT_AGE = 6, 18
TOPICS = ("language_course", "kita_school")
# What each topic's referral becomes here.
BECOMES = {"language_course": "enrolment", "kita_school": "access_request"}


async def on_referral_requested(event: CloudEvent[ReferralRequested], uow: UnitOfWork) -> None:
    ref = event.data  # a topic of TOPICS (the route's `where`, plugin.py)
    if await uow.get(store.REFERRALS, ref.referral_id) is not None:
        return  # answered already (sent again under a new event id)
    answer: dict[str, Any] = {"referral_id": ref.referral_id, "resident_id": ref.resident_id,
              "operator_id": ref.operator_id, "topic": ref.topic, "service": SERVICE}
    link = {"referral_id": ref.referral_id, "operator_id": ref.operator_id}
    if ref.topic == "language_course":
        reference, reason = await _language_course(uow, ref, link)
    else:
        reference, reason = await _kita_school(uow, ref, link)
    uow.put(store.REFERRALS, {"_id": ref.referral_id, "reference": reference, "reason": reason,
                              # for erasure and retention
                              "resident_id": ref.resident_id, "answered_at": event.time})
    if reference is not None:
        uow.emit(ReferralAccepted(**answer, became=BECOMES[ref.topic], reference=reference))
    else:
        uow.emit(ReferralRejected(**answer, reason=reason or "not possible"))


async def _language_course(uow: UnitOfWork, ref: ReferralRequested, link: dict[str, str]
                           ) -> tuple[str | None, str | None]:
    active = await uow.find(store.ENROLMENTS, {
        "resident_id": ref.resident_id, "status": {"$in": ["confirmed", "waitlisted"]}})
    for enr in active:
        if enr.get("course_kind") in LANGUAGE_KINDS:
            return enr["_id"], None  # already in a language course: the referral links to it
    courses = await uow.find(store.COURSES, {"kind": {"$in": sorted(LANGUAGE_KINDS)},
                                             "status": {"$in": ["planned", "running"]}})
    if not courses:
        return None, "no language course is open for enrolment"
    site = await store.resident_site(uow, ref.resident_id) or ref.site_id

    def rank(c: dict[str, Any]) -> tuple[bool, bool, str, str]:
        full = len(c["seats"]) >= c["capacity"]
        return full, c.get("site_id") != site, c["starts"], c["_id"]

    enr = await enrol_resident(uow, min(courses, key=rank), ref.resident_id, [], referral=link)
    return enr["_id"], None


async def _kita_school(uow: UnitOfWork, ref: ReferralRequested, link: dict[str, str]
                       ) -> tuple[str | None, str | None]:
    resident = await uow.get(store.RESIDENTS, ref.resident_id) or {}
    if resident.get("birth_year") is None:
        return None, (f"education knows no year of birth for resident {ref.resident_id}; "
                      f"a Kita or school request needs the child's age")
    age = ref.requested_on.year - resident["birth_year"]
    if age >= ADULT_AGE:
        return None, f"resident {ref.resident_id} is {age}: Kita and school are for children"
    site = await uow.get(store.SITES, resident.get("site_id") or ref.site_id) or {}
    kind = "kita" if age < KITA_AGE else "school"
    try:
        doc = await open_request(uow, SYSTEM, ref.resident_id, kind,
                                 site.get("district") or "unknown", None, link)
    except Conflict as exc:
        return exc.details["request_id"], None  # an open request exists: link to it
    return doc["_id"], None
