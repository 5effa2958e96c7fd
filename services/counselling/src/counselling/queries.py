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


def _in(month: str, day: Any) -> bool:
    return isinstance(day, str) and day.startswith(month)


async def site_overview(q: GetSiteOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    # Figures from tallies the read model keeps current: nothing is counted per request.
    site = {"site_id": q.site_id}
    sessions = await uow.tally(store.SESSIONS, ("held_on", "category"), site)
    incidents = await uow.tally(store.INCIDENTS, ("occurred_on", "severity", "resolved"), site)
    if not (sessions or incidents):
        return None
    month = date.today().isoformat()[:7]
    this_month: Counter[str] = Counter()
    for (day, category), n in sessions.items():
        if _in(month, day):
            this_month[category] += n
    by_severity: Counter[str] = Counter()
    for (_, severity, _), n in incidents.items():
        by_severity[severity] += n
    return {
        "month": month,
        "sessions_this_month": dict(this_month),
        "open_cases": await uow.count(store.CASES, {"site_id": q.site_id, "open": True}),
        "incidents": {"total": sum(incidents.values()),
                      "this_month": sum(n for (day, _, _), n in incidents.items()
                                        if _in(month, day)),
                      "unresolved": sum(n for (_, _, resolved), n in incidents.items()
                                        if not resolved),
                      "by_severity": dict(by_severity)},
    }


async def city_stats(q: GetCityStats, uow: UnitOfWork) -> dict[str, Any]:
    referrals = await uow.tally(store.REFERRALS, ("topic", "state", "owner"))
    by_topic: dict[str, Counter[str]] = {}
    for (topic, state, _), n in referrals.items():
        by_topic.setdefault(topic, Counter())[state] += n
    interpreters = await uow.tally(store.SESSIONS, "interpreter")
    return {
        "sessions_by_category": await uow.tally(store.SESSIONS, "category"),
        "sessions_with_interpreter": sum(n for v, n in interpreters.items() if v),
        "open_cases": await uow.count(store.CASES, {"open": True}),
        "referrals_by_topic": {t: dict(c) for t, c in sorted(by_topic.items())},
        "city_team_open_referrals": sum(n for (_, state, owner), n in referrals.items()
                                        if owner == "city_team" and state in OPEN_STATES),
        "overdue_referrals": await uow.count(store.REFERRALS, overdue.WORKLIST),
        "incidents": await uow.count(store.INCIDENTS),
    }
