"""Building goals, steps and links into a plan document. A link is also written to the
`links` collection under the fact it waits for, and is given the facts seen already: a
fact reported before the link was made counts as much as one reported after."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec

from im_runtime import DomainError, NotFound, UnitOfWork
from plans import store
from plans.contracts import HOUSEHOLD_FACTS, GoalIn, LinkIn, StepIn
from plans.domain import MAX_GOALS, MAX_LINKS, MAX_STEPS, room, settle
from plans.progress import refresh, seen

Doc = dict[str, Any]


def member(household: Doc, resident_id: str) -> str:
    if resident_id not in household["members"]:
        raise NotFound(f"no resident {resident_id!r} in household {household['_id']}",
                       details={"resident_id": resident_id, "household_id": household["_id"]})
    return resident_id


def not_after(on: date, today: date, what: str) -> str:
    if on > today:
        raise DomainError(f"{what} {on.isoformat()} lies in the future",
                          details={"on": on.isoformat()})
    return on.isoformat()


def _iso(on: date | None) -> str | None:
    return on.isoformat() if on else None


def responsible(who: Any) -> Doc:
    return msgspec.to_builtins(who)  # type: ignore[no-any-return]


async def add_goal(uow: UnitOfWork, plan: Doc, household: Doc, gin: GoalIn,
                   today: date) -> Doc:
    room("goals", len(plan["goals"]), MAX_GOALS, f"plan {plan['_id']}")
    rid = member(household, gin.resident_id) if gin.resident_id else None
    plan["next_goal"] += 1
    goal: Doc = {
        "goal_id": store.goal_id(plan["_id"], plan["next_goal"]), "resident_id": rid,
        "field": gin.field, "title": gin.title, "responsible": responsible(gin.responsible),
        "due": _iso(gin.due), "set_on": not_after(gin.set_on or today, today, "set_on"),
        "status": "open", "reason": None, "manual": None, "note": None,
        "reached_on": None, "reached_by": None, "steps": [], "links": [], "next_step": 0,
        "next_link": 0}
    plan["goals"].append(goal)
    for step in gin.steps:
        await add_step(uow, plan, household, goal, step)
    for link in gin.links:
        await add_link(uow, plan, household, goal, link, None)
    settle(goal)
    return goal


async def add_step(uow: UnitOfWork, plan: Doc, household: Doc, goal: Doc,
                   step_in: StepIn) -> Doc:
    room("steps", len(goal["steps"]), MAX_STEPS, f"goal {goal['goal_id']}")
    goal["next_step"] += 1
    step: Doc = {"step_id": f"s{goal['next_step']}", "title": step_in.title,
                 "responsible": responsible(step_in.responsible), "due": _iso(step_in.due),
                 "done_on": None, "done_by": None}
    goal["steps"].append(step)
    if step_in.link is not None:
        await add_link(uow, plan, household, goal, step_in.link, step["step_id"])
    settle(goal)
    return step


async def add_link(uow: UnitOfWork, plan: Doc, household: Doc, goal: Doc, link_in: LinkIn,
                   step_id: str | None) -> Doc:
    room("links", len(goal["links"]), MAX_LINKS, f"goal {goal['goal_id']}")
    if link_in.fact in HOUSEHOLD_FACTS:
        subject = household["_id"]
    elif link_in.resident_id or goal["resident_id"]:
        subject = member(household, link_in.resident_id or goal["resident_id"])
    else:
        raise DomainError(f"fact {link_in.fact} is about a resident: goal {goal['goal_id']} "
                          f"is the household's, so the link must name resident_id",
                          details={"fact": link_in.fact})
    goal["next_link"] += 1
    key = store.fact_key(link_in.fact, subject)
    link: Doc = {"link_id": f"{goal['goal_id']}-l{goal['next_link']}", "fact": link_in.fact,
                 "subject": subject, "key": key, "step_id": step_id, "level": link_in.level,
                 "phase": link_in.phase, "placement_kind": link_in.placement_kind,
                 "topic": link_in.topic, "matched": None}
    goal["links"].append(link)
    uow.put(store.LINKS, {"_id": link["link_id"], "key": key, "plan_id": plan["_id"],
                          "subject": subject})
    refresh(goal, key, await seen(uow, key))
    return link
