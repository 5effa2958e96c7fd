"""Plans' read commands (`Handles(..., read=True)`): one plan, a worklist, and the social
workers deployed to a site. Each reads a few documents by id or index and writes
nothing."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from contracts import utcnow
from im_runtime import DomainError, Forbidden, NotFound, UnitOfWork
from im_runtime.access import require_role
from plans import store
from plans.access import READ, may
from plans.contracts import (
    GetPlan,
    GetWorklist,
    ListSocialWorkers,
    PlanView,
    SocialWorkers,
    WorklistView,
)
from plans.views import plan_view


def exactly_one(**given: str | None) -> tuple[str, str]:
    named = [(k, v) for k, v in given.items() if v is not None]
    if len(named) != 1:
        names = " or ".join(given)
        raise DomainError(f"give exactly one of {names}", details={"given": str(len(named))})
    return named[0]


async def get_plan(cmd: GetPlan, uow: UnitOfWork) -> PlanView:
    by, id = exactly_one(plan_id=cmd.plan_id, household_id=cmd.household_id)
    if by == "household_id":
        household = await store.household(uow, id)
        plan_id = household.get("plan_id") or household.get("last_plan_id")
        if plan_id is None:
            raise NotFound(f"household {id} has no plan", details={"household_id": id})
        id = plan_id
    plan = await store.plan(uow, id)
    may(cmd.actor, READ, plan.get("site_id"), plan, "read plans")
    return plan_view(plan, await store.members(uow, plan["household_id"]))


def due(entries: dict[str, Any], on: date, inclusive: bool) -> list[tuple[str, Any]]:
    day = on.isoformat()
    return sorted(((k, e) for k, e in entries.items()
                   if e["due"] < day or (inclusive and e["due"] == day)),
                  key=lambda item: (item[1]["due"], item[0]))


async def _unplanned_at_sites_of(uow: UnitOfWork, staff_id: str) -> list[str]:
    """Households without a plan at the sites the social worker is deployed to."""
    staff = await uow.get(store.STAFF, staff_id)
    found: set[str] = set()
    for site in (staff or {}).get("sites", []):
        found.update((await store.worklist(uow, store.site_list(site)))["unplanned"])
    return sorted(found)


async def get_worklist(cmd: GetWorklist, uow: UnitOfWork) -> WorklistView:
    scope, id = exactly_one(site_id=cmd.site_id, social_worker=cmd.social_worker)
    require_role(cmd.actor, READ, "read worklists")
    if scope == "site_id":
        may(cmd.actor, READ, id, None, "read its worklist")
        doc = await store.worklist(uow, store.site_list(id))
    else:
        if cmd.actor.role == "social_worker" and cmd.actor.subject != id:
            raise Forbidden(f"social worker {cmd.actor.subject} may read only their own "
                            f"worklist", details={"social_worker": id})
        doc = await store.worklist(uow, store.worker_list(id))
        doc["unplanned"] = await _unplanned_at_sites_of(uow, id)
    on = cmd.on or utcnow().date()
    lists = {
        "reviews_due": [{"plan_id": k, **e} for k, e in due(doc["reviews"], on, True)],
        "overdue_goals": [{"goal_id": k, **e} for k, e in due(doc["goals"], on, False)
                          if cmd.field is None or e["field"] == cmd.field],
        "households_without_plan": doc["unplanned"]}
    end = None if cmd.limit is None else cmd.offset + cmd.limit
    view = {"scope": "site" if scope == "site_id" else "social_worker", "id": id, "on": on,
            "plans_open": doc["plans_open"],
            **{name: items[cmd.offset:end] for name, items in lists.items()},
            **{f"{name}_total": len(items) for name, items in lists.items()}}
    return msgspec.convert(view, WorklistView, strict=False)


async def list_social_workers(cmd: ListSocialWorkers, uow: UnitOfWork) -> SocialWorkers:
    """Deployments name staff and sites, no resident: anyone of the city team may read
    them (housing's site overview shows them too)."""
    by, id = exactly_one(site_id=cmd.site_id, household_id=cmd.household_id)
    require_role(cmd.actor, READ, "list social workers")
    site = id if by == "site_id" else (await store.household(uow, id)).get("site_id")
    if site is None:
        return SocialWorkers(site_id=None)
    staff = await uow.find(store.STAFF, {"sites": site}, sort=[("_id", 1)])
    return SocialWorkers(site_id=site, social_workers=[s["_id"] for s in staff])
