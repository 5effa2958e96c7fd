"""Handlers of the operators' events, behind the trust boundary: a session counts in the
resident's case (and may refer), a note is kept here only, an incident is counted for
its site, a referral goes to the city. Nothing is stored for an event that fails it."""

from __future__ import annotations

from contracts import CloudEvent
from contracts.operator import (
    CaseNoteRecorded,
    IncidentRecorded,
    OperatorReferralRequested,
    SessionRecorded,
)
from counselling import cases, referrals, store
from counselling.boundary import require_operator_site
from im_runtime import UnitOfWork


async def on_session_recorded(event: CloudEvent[SessionRecorded], uow: UnitOfWork) -> None:
    data, operator = event.data, event.source
    await require_operator_site(uow, operator, data.site_id, data.resident_id)
    k = store.key(operator, data.session_id)
    if await uow.get(store.SESSIONS, k) is not None:
        return  # the same session sent again under a new event id
    session = {"_id": k, "session_id": data.session_id, "operator_id": operator,
               "resident_id": data.resident_id, "site_id": data.site_id,
               "category": data.category, "held_on": data.held_on.isoformat(),
               "duration_minutes": data.duration_minutes, "interpreter": data.interpreter,
               "counsellor": data.counsellor,
               "follow_up_on": data.follow_up_on.isoformat() if data.follow_up_on else None,
               "referral": data.referral}
    doc = await cases.case(uow, operator, data.resident_id, data.site_id)
    cases.add_session(doc, session)
    session["case_closed_on"] = None if doc["open"] else doc["closed_on"]  # a late record
    uow.put(store.SESSIONS, session)
    uow.put(store.CASES, doc)
    if data.referral is not None:
        await referrals.request(uow, operator_id=operator, referral_id=f"s-{data.session_id}",
                                resident_id=data.resident_id, site_id=data.site_id,
                                topic=data.referral, on=data.held_on,
                                session_id=data.session_id)


async def on_case_note_recorded(event: CloudEvent[CaseNoteRecorded], uow: UnitOfWork) -> None:
    data, operator = event.data, event.source
    await require_operator_site(uow, operator, data.site_id, data.resident_id)
    closed = await cases.closed_on(uow, operator, data.resident_id)
    # The text stays in this collection: no event, answer or log line carries it.
    uow.put(store.NOTES, {"_id": store.key(operator, data.note_id), "operator_id": operator,
                          "resident_id": data.resident_id, "site_id": data.site_id,
                          "category": data.category, "written_on": data.written_on.isoformat(),
                          "text": data.text, "case_closed_on": closed})


async def on_incident_recorded(event: CloudEvent[IncidentRecorded], uow: UnitOfWork) -> None:
    data, operator = event.data, event.source
    await require_operator_site(uow, operator, data.site_id)
    k = store.key(operator, data.incident_id)
    await uow.get(store.INCIDENTS, k)  # a later report (now resolved, say) replaces it
    uow.put(store.INCIDENTS, {"_id": k,
                              "incident_id": data.incident_id, "operator_id": operator,
                              "site_id": data.site_id,
                              "occurred_on": data.occurred_on.isoformat(),
                              "severity": data.severity,
                              "people_involved": data.people_involved,
                              "resolved": data.resolved})


async def on_referral_requested(event: CloudEvent[OperatorReferralRequested],
                                uow: UnitOfWork) -> None:
    data, operator = event.data, event.source
    await require_operator_site(uow, operator, data.site_id, data.resident_id)
    await referrals.request(uow, operator_id=operator, referral_id=data.referral_id,
                            resident_id=data.resident_id, site_id=data.site_id,
                            topic=data.topic, on=data.requested_on, session_id=data.session_id)
