"""Referrals to the city's integration management. Counselling hands each to the service
that declared its topic (`topics.py`) as a ReferralRequested; that service answers with
the shared answer contract (`answers.py`), and the city team answers those it keeps
(counselling's own topics) by command. A topic nobody handles is rejected at once. Every
change of state goes back to the operator that made the referral, on its feedback
subjects."""

from __future__ import annotations

import time
from datetime import date
from typing import Any

from contracts import feedback as fb
from contracts.counselling import SERVICE as COUNSELLING
from contracts.counselling import AnswerCityReferral, ReferralRequested, ReferralView
from counselling import cases, store, topics
from counselling.trail import step
from im_runtime import Conflict, DomainError, Reject, UnitOfWork
from im_runtime.access import STAFF, require_role, require_site

# Which state may follow which: an answer that does not move a referral on is ignored,
# so duplicates and late answers change nothing.
MAX_SAID = 500  # characters of a reason, reference or outcome the city team gives
NEXT = {"requested": {"accepted", "rejected", "completed"}, "accepted": {"completed"}}


async def request(uow: UnitOfWork, *, operator_id: str, referral_id: str, resident_id: str,
                  site_id: str, topic: str, on: date, session_id: str | None = None) -> None:
    k = store.key(operator_id, referral_id)
    found = await uow.get(store.REFERRALS, k)
    if found is not None:
        if (found["resident_id"], found["topic"]) != (resident_id, topic):
            raise Reject(f"referral {referral_id!r} of operator {operator_id!r} exists already "
                         f"for another resident or topic: a new referral needs a new id")
        return  # the same referral sent again under a new event id
    owner = await topics.owner_of(uow, topic)
    doc = {"_id": k, "referral_id": referral_id, "operator_id": operator_id,
           "resident_id": resident_id, "site_id": site_id, "topic": topic,
           "owner": owner or COUNSELLING, "state": "requested",
           "requested_on": on.isoformat(), "requested_at": time.time(), "overdue": False,
           "session_id": session_id, "by": None, "reason": None, "reference": None,
           "outcome": None, "became": None,
           "case_closed_on": await cases.closed_on(uow, operator_id, resident_id)}
    step(doc, "requested", operator_id)
    if owner is None:  # answered now rather than left open for ever
        reason = f"no service handles {topic}"
        doc.update(state="rejected", by=COUNSELLING, reason=reason)
        step(doc, "rejected", COUNSELLING, reason=reason)
        uow.put(store.REFERRALS, doc)
        uow.emit(fb.ReferralRejectedFeedback(**_about(doc), by=COUNSELLING, reason=reason))
        return
    uow.put(store.REFERRALS, doc)
    uow.emit(ReferralRequested(referral_id=referral_id, resident_id=resident_id,
                               operator_id=operator_id, site_id=site_id, topic=topic,
                               requested_on=on))
    uow.emit(fb.ReferralReceivedFeedback(**_about(doc), owner=owner))


def _about(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in ("operator_id", "referral_id", "resident_id", "site_id", "topic")}


def advance(uow: UnitOfWork, doc: dict[str, Any], state: str, by: str,
            **fields: str | None) -> bool:
    """Move the referral to `state` and tell its operator; False if that is no move on."""
    if state not in NEXT.get(doc["state"], set()):
        return False
    doc.update(state=state, by=by, **{k: v for k, v in fields.items() if v is not None})
    step(doc, state, by, **fields)
    uow.put(store.REFERRALS, doc)
    about = {**_about(doc), "by": by}
    became = doc.get("became")
    if state == "accepted":
        uow.emit(fb.ReferralAcceptedFeedback(**about, reference=doc["reference"] or "",
                                             became=became))
    elif state == "rejected":
        uow.emit(fb.ReferralRejectedFeedback(**about, reason=doc["reason"] or ""))
    else:
        uow.emit(fb.ReferralCompletedFeedback(**about, reference=doc["reference"] or "",
                                      outcome=doc["outcome"] or "", became=became))
    return True


async def answer_city_referral(cmd: AnswerCityReferral, uow: UnitOfWork) -> ReferralView:
    require_role(cmd.actor, STAFF, "answer the city team's referrals")
    doc = await store.referral_by_id(uow, cmd.referral_id)
    require_site(cmd.actor, doc["site_id"], "answer this referral")
    if doc["owner"] != topics.CITY_TEAM:
        raise Conflict(f"referral {cmd.referral_id} is for {doc['owner']}, not the city team",
                       details={"owner": doc["owner"]})
    for name in ("reason", "reference", "outcome"):  # the contract leaves them unbounded
        if len(getattr(cmd, name) or "") > MAX_SAID:
            raise DomainError(f"Expected `str` of length <= {MAX_SAID} - at `$.{name}`",
                              details={"field": name})
    if cmd.answer == "rejected" and not cmd.reason:
        raise Conflict("a rejection needs a reason", details={"field": "reason"})
    if not advance(uow, doc, cmd.answer, topics.CITY_TEAM, reason=cmd.reason,
                   reference=cmd.reference, outcome=cmd.outcome):
        raise Conflict(f"referral {cmd.referral_id} is {doc['state']} and cannot become "
                       f"{cmd.answer}", details={"state": doc["state"]})
    return view(doc)


def view(doc: dict[str, Any]) -> ReferralView:
    return ReferralView(referral_id=doc["referral_id"], resident_id=doc["resident_id"],
                        operator_id=doc["operator_id"], site_id=doc["site_id"],
                        topic=doc["topic"], owner=doc["owner"], state=doc["state"],
                        reason=doc["reason"], reference=doc["reference"],
                        outcome=doc["outcome"], overdue=bool(doc.get("overdue")))


def visible(doc: dict[str, Any]) -> dict[str, Any]:
    """A referral in an answer: its way, never more than ids, topic and the answers."""
    return {"referral_id": doc["referral_id"], "operator_id": doc["operator_id"],
            "topic": doc["topic"], "owner": doc["owner"], "state": doc["state"],
            "requested_on": doc["requested_on"], "reason": doc["reason"],
            "reference": doc["reference"], "outcome": doc["outcome"],
            "became": doc.get("became"), "overdue": bool(doc.get("overdue"))}
