"""Plans' collections and typed reads through the unit of work.

plans       one per household plan, its goals, steps, links, reviews and consent inside
links       one per link of an open plan, keyed by the fact it waits for (`key`)
facts       one per fact kind and subject: the occurrences seen (event id, type, time)
residents   housing's residents as plans needs them: household and site
households  members, site, the open plan
worklists   one per site (`site:<id>`) and per social worker (`worker:<id>`): reviews and
            goals with their due dates, households without a plan, counted with each change
stats       `city`: the city's figures, counted with each change
staff       the sites each social worker is deployed to (housing's deployments)"""

from __future__ import annotations

from typing import Any

from im_runtime import NotFound, UnitOfWork

PLANS, LINKS, FACTS, RESIDENTS, HOUSEHOLDS, WORKLISTS, STATS, STAFF = (
    "plans", "links", "facts", "residents", "households", "worklists", "stats", "staff")
CITY = "city"

need = UnitOfWork.need  # NotFound naming the missing thing


def fact_key(kind: str, subject: str) -> str:
    return f"{kind}:{subject}"


def site_list(site_id: str) -> str:
    return f"site:{site_id}"


def worker_list(staff_id: str) -> str:
    return f"worker:{staff_id}"


async def plan(uow: UnitOfWork, plan_id: str) -> dict[str, Any]:
    return await need(uow, PLANS, plan_id, "plan")


def goal_id(plan_id: str, n: int) -> str:
    """Goal ids carry their plan's: a command about a goal finds its plan without an index."""
    return f"{plan_id}-g{n}"


def plan_id_of(goal_id: str) -> str:
    return goal_id.rsplit("-g", 1)[0]


async def plan_of_goal(uow: UnitOfWork, goal_id: str) -> dict[str, Any]:
    found = await uow.get(PLANS, plan_id_of(goal_id)) if "-g" in goal_id else None
    if found is None:
        raise NotFound(f"no goal {goal_id!r}", details={"goal_id": goal_id})
    return found


async def household(uow: UnitOfWork, household_id: str) -> dict[str, Any]:
    return await need(uow, HOUSEHOLDS, household_id, "household")


async def members(uow: UnitOfWork, household_id: str) -> list[str]:
    found = await uow.get(HOUSEHOLDS, household_id)
    return list(found["members"]) if found else []


async def worklist(uow: UnitOfWork, list_id: str) -> dict[str, Any]:
    return await uow.get(WORKLISTS, list_id) or {
        "_id": list_id, "plans_open": 0, "reviews": {}, "goals": {}, "unplanned": []}


async def city(uow: UnitOfWork) -> dict[str, Any]:
    return await uow.get(STATS, CITY) or {
        "_id": CITY, "plans": {}, "goals": {}, "set": {}, "within_6": {}, "within_12": {},
        "consent_given": 0, "households": 0, "unplanned": 0}
