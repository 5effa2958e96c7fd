"""The counselling service's spec: every message it handles and the handler for it."""

from __future__ import annotations

from pymongo import IndexModel

from contracts import counselling as ev
from contracts import education as edu
from contracts import employment as emp
from contracts import feedback as fb
from contracts import housing as hs
from contracts import operator as op
from contracts import referrals as ref
from counselling import (
    answers,
    erasure,
    operators,
    overdue,
    projection,
    queries,
    referrals,
    store,
    topics,
    trail,
)
from im_runtime import Handles, On, ServiceSpec, views
from im_runtime.spec import Retention

# Default periods in days (IM_RETENTION_COUNSELLING_<NAME> overrides): social-data records
# are kept three years after the operator's case closed (the resident left its shelters),
# long enough for a return or a late question, and what housing told about a resident
# three years after they moved out. A case reopens on return, and its clock stops.
THREE_YEARS = 1095

spec = ServiceSpec(
    name=ev.SERVICE,
    version="1.0.0",
    description="Operators' counselling records, cases per resident and operator, incidents, "
                "referrals to the city's integration management",
    publishes=(ev.ReferralRequested, ev.ReferralOverdue, fb.ReferralReceivedFeedback,
               fb.ReferralAcceptedFeedback, fb.ReferralRejectedFeedback,
               fb.ReferralCompletedFeedback),
    consumes=(
        On(op.SessionRecorded, handler=operators.on_session_recorded),
        On(op.CaseNoteRecorded, handler=operators.on_case_note_recorded),
        On(op.IncidentRecorded, handler=operators.on_incident_recorded),
        On(op.OperatorReferralRequested, handler=operators.on_referral_requested),
        On(hs.SiteRegistered, handler=projection.on_site_registered),
        On(hs.ResidentPlaced, hs.ResidentTransferred, hs.ResidentMovedOut,
           handler=projection.on_resident_moved),
        # Every service's answers, in the one shared contract; who may answer what comes
        # from the services' own declarations of their topics.
        On(ref.ReferralTopicsDeclared, handler=topics.on_topics_declared),
        On(ref.ReferralAccepted, ref.ReferralRejected, ref.ReferralCompleted,
           handler=answers.on_answer),
        # The per-service answers of before, for replay.
        On(hs.HousingReferralAccepted, hs.HousingReferralRejected, hs.HousingReferralCompleted,
           edu.EducationReferralAccepted, edu.EducationReferralRejected,
           edu.EducationReferralCompleted, emp.EmploymentReferralAccepted,
           emp.EmploymentReferralRejected, handler=answers.on_service_answer),
    ),
    commands=(
        Handles("answer_city_referral", ev.AnswerCityReferral, referrals.answer_city_referral,
                ev.ReferralView),
        Handles("list_referrals", ev.ListReferrals, trail.list_referrals, ev.ReferralPage,
                read=True),
        Handles("get_referral", ev.GetReferral, trail.get_referral, ev.ReferralTrail,
                read=True),
    ),
    queries=views(queries.resident_overview, queries.site_overview, queries.city_stats),
    indexes={
        store.CASES: [IndexModel("resident_id"), IndexModel("site_id"), IndexModel("open")],
        store.SESSIONS: [IndexModel("resident_id"), IndexModel("site_id")],
        store.REFERRALS: [IndexModel("resident_id"), IndexModel("referral_id"),
                          IndexModel([("state", 1), ("overdue", 1)]), IndexModel("site_id"),
                          IndexModel("requested_at")],
        store.TOPICS: [IndexModel("owner")],
        store.INCIDENTS: [IndexModel("site_id")], store.NOTES: [IndexModel("resident_id")],
        store.SITES: [], store.RESIDENTS: [],
    },
    # Audited by the gateway (the resident each referral is about).
    personal_reads={"list_referrals": "resident_id", "get_referral": "resident_id"},
    # Operators' events are small records; NATS itself would take up to 1 MB.
    max_message_bytes=64 * 1024,
    # Notes are free text that never leaves the service, not even in a dead letter.
    redact_dead_letters=True,
    operator_inbox=True,
    erase=erasure.erase,
    # The city team's own topics, answered by command (`answer_city_referral`).
    referral_topics=("authorities", "neighbourhood"),
    workers=(overdue.watch,),
    retention=(
        Retention("cases", store.CASES, "closed_on", THREE_YEARS, stored="date"),
        Retention("sessions", store.SESSIONS, "case_closed_on", THREE_YEARS, stored="date"),
        Retention("notes", store.NOTES, "case_closed_on", THREE_YEARS, stored="date"),
        Retention("referrals", store.REFERRALS, "case_closed_on", THREE_YEARS, stored="date"),
        Retention("residents", store.RESIDENTS, "moved_out_at", THREE_YEARS),
    ),
)
