"""Plans' sections of the scatter-gather views. Each reads documents by id (the
resident's household and its plan, a site's worklist, the city's counts): no scans."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from contracts import Actor, utcnow
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from im_runtime import UnitOfWork
from plans import store
from plans.contracts import FIELDS, STATUSES
from plans.ledger import HALF_YEAR, YEAR
from plans.reads import due

# Plans are the city team's: operators and providers see no section.
NOT_SHOWN = ("operator", "provider")


def _goal(goal: dict[str, Any]) -> dict[str, Any]:
    return {"goal_id": goal["goal_id"], "field": goal["field"], "title": goal["title"],
            "for": "member" if goal["resident_id"] else "household",
            "status": goal["status"], "due": goal["due"], "reached_on": goal["reached_on"],
            "reached_by": (goal["reached_by"] or {}).get("type"),
            "steps": len(goal["steps"]),
            "steps_done": sum(bool(s["done_on"] or s["done_by"]) for s in goal["steps"])}


def _hidden(actor: Actor) -> bool:
    return actor.role in NOT_SHOWN


async def resident_overview(q: GetResidentOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    resident = await uow.get(store.RESIDENTS, q.resident_id)
    if resident is None or _hidden(q.actor):
        return None
    household = await uow.get(store.HOUSEHOLDS, resident["household_id"])
    plan_id = household and (household.get("plan_id") or household.get("last_plan_id"))
    plan = await uow.get(store.PLANS, plan_id) if plan_id else None
    if plan is None:
        return None
    consent = plan["consent"].get(q.resident_id)
    mine = [g for g in plan["goals"] if g["resident_id"] in (None, q.resident_id)]
    return {"plan": {
        "plan_id": plan["_id"], "state": plan["status"], "social_worker": plan["social_worker"],
        "next_review": plan["next_review"], "consent": consent["given"] if consent else None,
        "goals": [_goal(g) for g in mine]}}


async def site_overview(q: GetSiteOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    doc = await uow.get(store.WORKLISTS, store.site_list(q.site_id))
    if doc is None or _hidden(q.actor):
        return None
    today = utcnow().date()
    return {"plans_open": doc["plans_open"],
            "households_without_plan": len(doc["unplanned"]),
            "reviews_due": len(due(doc["reviews"], today, True)),
            "overdue_goals": len(due(doc["goals"], today, False))}


def _reached_within(city: dict[str, Any], days: int, key: str) -> dict[str, Any]:
    """Of the goals set at least `days` ago (by month), the share reached within `days`."""
    last = (utcnow().date() - timedelta(days=days)).isoformat()[:7]
    goals = sum(n for month, n in city["set"].items() if month < last)
    reached = sum(n for month, n in city[key].items() if month < last)
    return {"goals": goals, "reached": reached,
            "share": round(reached / goals, 3) if goals else None}


async def city_stats(q: GetCityStats, uow: UnitOfWork) -> dict[str, Any]:
    city = await store.city(uow)
    by_field = {f: {s: n for s in STATUSES if (n := city["goals"].get(f, {}).get(s))}
                for f in FIELDS}
    return {"plans": {s: city["plans"].get(s, 0) for s in ("open", "closed")},
            "households": city["households"],
            "households_without_plan": city["unplanned"],
            "consent_given": city["consent_given"],
            "goals_by_field": {f: c for f, c in by_field.items() if c},
            "reached_within_6_months": _reached_within(city, HALF_YEAR, "within_6"),
            "reached_within_12_months": _reached_within(city, YEAR, "within_12")}
