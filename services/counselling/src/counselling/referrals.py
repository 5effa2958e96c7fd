"""Referrals to the city's integration management. Counselling publishes each as its
ReferralRequested; the owning service (by topic) answers with its own events, and the city
team answers those it keeps (`authorities`, `neighbourhood`) by command. Every change of
state goes back to the operator that made the referral, on its feedback subjects."""

from __future__ import annotations

from datetime import date
from typing import Any

from contracts import CloudEvent
from contracts import feedback as fb
from contracts.counselling import AnswerCityReferral, ReferralRequested, ReferralView
from contracts.referrals import ReferralAccepted, ReferralCompleted, ReferralRejected, Topic
from counselling import cases, store
from im_runtime import Conflict, UnitOfWork
from im_runtime.access import STAFF, require_role, require_site

OWNER: dict[str, fb.Owner] = {
    "housing_search": "housing", "language_course": "education", "kita_school": "education",
    "work_qualification": "employment", "volunteers": "any", "authorities": "city_team",
    "neighbourhood": "city_team"}
# Which state may follow which: an answer that does not move a referral on is ignored,
# so duplicates and late answers change nothing.
NEXT = {"requested": {"accepted", "rejected", "completed"}, "accepted": {"completed"}}


async def request(uow: UnitOfWork, *, operator_id: str, referral_id: str, resident_id: str,
                  site_id: str, topic: Topic, on: date, session_id: str | None = None) -> None:
    k = store.key(operator_id, referral_id)
    if await uow.get(store.REFERRALS, k) is not None:
        return  # sent again under a new event id
    doc = {"_id": k, "referral_id": referral_id, "operator_id": operator_id,
           "resident_id": resident_id, "site_id": site_id, "topic": topic,
           "owner": OWNER[topic], "state": "requested", "requested_on": on.isoformat(),
           "session_id": session_id, "by": None, "reason": None, "reference": None,
           "outcome": None,
           "case_closed_on": await cases.closed_on(uow, operator_id, resident_id)}
    uow.put(store.REFERRALS, doc)
    uow.emit(ReferralRequested(referral_id=referral_id, resident_id=resident_id,
                               operator_id=operator_id, site_id=site_id, topic=topic,
                               requested_on=on))
    uow.emit(fb.ReferralReceived(**_about(doc), owner=OWNER[topic]))


def _about(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("operator_id", "referral_id", "resident_id", "site_id", "topic")}


def _advance(uow: UnitOfWork, doc: dict[str, Any], state: str, by: str,
             **fields: str | None) -> bool:
    if state not in NEXT.get(doc["state"], set()):
        return False
    doc.update(state=state, by=by, **{k: v for k, v in fields.items() if v is not None})
    uow.put(store.REFERRALS, doc)
    about = {**_about(doc), "by": by}
    if state == "accepted":
        uow.emit(fb.ReferralAccepted(**about, reference=doc["reference"] or ""))
    elif state == "rejected":
        uow.emit(fb.ReferralRejected(**about, reason=doc["reason"] or ""))
    else:
        uow.emit(fb.ReferralCompleted(**about, reference=doc["reference"] or "",
                                      outcome=doc["outcome"] or ""))
    return True


async def on_answer(event: CloudEvent[Any], uow: UnitOfWork) -> None:
    """A service's answer (HousingReferralAccepted, EducationReferralRejected, ...)."""
    data, by = event.data, event.source
    doc = await uow.get(store.REFERRALS, store.key(data.operator_id, data.referral_id))
    if doc is None or doc["owner"] not in (by, "any"):
        return  # not ours, or not the owner's to answer
    if isinstance(data, ReferralAccepted):
        _advance(uow, doc, "accepted", by, reference=data.reference)
    elif isinstance(data, ReferralRejected):
        _advance(uow, doc, "rejected", by, reason=data.reason)
    elif isinstance(data, ReferralCompleted):
        _advance(uow, doc, "completed", by, reference=data.reference, outcome=data.outcome)


async def answer_city_referral(cmd: AnswerCityReferral, uow: UnitOfWork) -> ReferralView:
    require_role(cmd.actor, STAFF, "answer the city team's referrals")
    doc = await store.referral_by_id(uow, cmd.referral_id)
    require_site(cmd.actor, doc["site_id"], "answer this referral")
    if doc["owner"] != "city_team":
        raise Conflict(f"referral {cmd.referral_id} is for {doc['owner']}, not the city team",
                       details={"owner": doc["owner"]})
    if cmd.answer == "rejected" and not cmd.reason:
        raise Conflict("a rejection needs a reason", details={"field": "reason"})
    if not _advance(uow, doc, cmd.answer, "city_team", reason=cmd.reason,
                    reference=cmd.reference, outcome=cmd.outcome):
        raise Conflict(f"referral {cmd.referral_id} is {doc['state']} and cannot become "
                       f"{cmd.answer}", details={"state": doc["state"]})
    return view(doc)


def view(doc: dict[str, Any]) -> ReferralView:
    return ReferralView(referral_id=doc["referral_id"], resident_id=doc["resident_id"],
                        operator_id=doc["operator_id"], site_id=doc["site_id"],
                        topic=doc["topic"], owner=doc["owner"], state=doc["state"],
                        reason=doc["reason"], reference=doc["reference"],
                        outcome=doc["outcome"])


def visible(doc: dict[str, Any]) -> dict[str, Any]:
    """A referral in an answer: its way, never more than ids, topic and the answers."""
    return {"referral_id": doc["referral_id"], "operator_id": doc["operator_id"],
            "topic": doc["topic"], "owner": doc["owner"], "state": doc["state"],
            "requested_on": doc["requested_on"], "reason": doc["reason"],
            "reference": doc["reference"], "outcome": doc["outcome"]}
