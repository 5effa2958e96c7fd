"""Counselling's sections of the scatter-gather views: categories, counts, follow-up
dates and referral states. Never a note; health details only for the operator that
recorded them (everyone else sees that there were health sessions, and how many)."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from contracts import Actor
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from counselling import overdue, store
from counselling.referrals import visible
from im_runtime import UnitOfWork

RESTRICTED = "health"
OPEN_STATES = ("requested", "accepted")


def may_see(actor: Actor, doc: dict[str, Any]) -> bool:
    """Health details are the recording operator's alone; everything else is counts-level."""
    return doc["category"] != RESTRICTED or (
        actor.role == "operator" and actor.operator == doc["operator_id"])


def _case(actor: Actor, doc: dict[str, Any]) -> dict[str, Any]:
    owner = doc["operator_id"]
    shown = [f for f in doc["follow_ups"] if may_see(actor, {**f, "operator_id": owner})]
    return {"operator_id": doc["operator_id"], "site_id": doc["site_id"], "open": doc["open"],
            "closed_on": doc["closed_on"], "sessions_by_category": dict(doc["sessions"]),
            "open_follow_ups": sorted(({"category": f["category"], "due": f["due"]}
                                       for f in shown), key=lambda f: f["due"]),
            "restricted_follow_ups": len(doc["follow_ups"]) - len(shown)}


def _session(s: dict[str, Any]) -> dict[str, Any]:
    return {k: s[k] for k in ("session_id", "operator_id", "site_id", "category", "held_on",
                              "duration_minutes", "interpreter", "follow_up_on")}


async def resident_overview(q: GetResidentOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    rid = {"resident_id": q.resident_id}
    found = await uow.find(store.CASES, rid, sort=[("_id", 1)])
    refs = await uow.find(store.REFERRALS, rid, sort=[("requested_on", 1), ("_id", 1)])
    if not (found or refs):
        return None
    sessions = await uow.find(store.SESSIONS, rid, sort=[("held_on", 1), ("_id", 1)])
    return {"cases": [_case(q.actor, c) for c in found],
            "sessions": [_session(s) for s in sessions if may_see(q.actor, s)],
            "referrals": [visible(r) for r in refs],
            "open_referrals": sum(r["state"] in OPEN_STATES for r in refs)}


async def site_overview(q: GetSiteOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    site = {"site_id": q.site_id}
    sessions = await uow.find(store.SESSIONS, site)
    incidents = await uow.find(store.INCIDENTS, site, sort=[("occurred_on", 1), ("_id", 1)])
    if not (sessions or incidents):
        return None
    month = date.today().isoformat()[:7]
    return {
        "month": month,
        "sessions_this_month": dict(Counter(s["category"] for s in sessions
                                            if s["held_on"].startswith(month))),
        "open_cases": await uow.count(store.CASES, {"site_id": q.site_id, "open": True}),
        "incidents": {"total": len(incidents),
                      "this_month": sum(i["occurred_on"].startswith(month) for i in incidents),
                      "unresolved": sum(not i["resolved"] for i in incidents),
                      "by_severity": dict(Counter(i["severity"] for i in incidents))},
    }


async def city_stats(q: GetCityStats, uow: UnitOfWork) -> dict[str, Any]:
    sessions = await uow.find(store.SESSIONS)
    refs = await uow.find(store.REFERRALS)
    by_topic: dict[str, Counter[str]] = {}
    for r in refs:
        by_topic.setdefault(r["topic"], Counter())[r["state"]] += 1
    return {
        "sessions_by_category": dict(Counter(s["category"] for s in sessions)),
        "sessions_with_interpreter": sum(bool(s["interpreter"]) for s in sessions),
        "open_cases": await uow.count(store.CASES, {"open": True}),
        "referrals_by_topic": {t: dict(c) for t, c in sorted(by_topic.items())},
        "city_team_open_referrals": sum(r["owner"] == "city_team"
                                        and r["state"] in OPEN_STATES for r in refs),
        "overdue_referrals": await uow.count(store.REFERRALS, overdue.WORKLIST),
        "incidents": await uow.count(store.INCIDENTS),
    }
