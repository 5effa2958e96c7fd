"""Plans' commands: a plan for a household with its goals, goals, steps and links added
later, steps done and statuses set by hand, consent, reviews, closing. Every change goes
through `save`, which writes the plan, its worklist entries and the city's counts in one
commit, with an event for each goal whose status changed."""

from __future__ import annotations

from datetime import date
from typing import Any

from contracts import utcnow
from im_runtime import Conflict, DomainError, NotFound, UnitOfWork
from im_runtime.ids import derived
from im_runtime.unit_of_work import clone
from plans import goals, ledger, store
from plans.access import WRITE, may
from plans.contracts import (
    AddGoal,
    AddStep,
    ClosePlan,
    CompleteStep,
    ConsentIn,
    ConsentRecorded,
    CreatePlan,
    GoalAdded,
    HandOverPlan,
    LinkGoal,
    PlanClosed,
    PlanCreated,
    PlanHandedOver,
    PlanReviewed,
    PlanView,
    RecordConsent,
    RecordReview,
    ReopenGoal,
    SetGoalStatus,
)
from plans.domain import (
    MAX_REVIEWS,
    OPEN,
    by_hand,
    goal_of,
    need_open,
    reopen,
    room,
    settle,
    step_of,
)
from plans.progress import status_changes
from plans.views import plan_view

Doc = dict[str, Any]


def today() -> date:
    return utcnow().date()


async def save(uow: UnitOfWork, before: Doc | None, plan: Doc) -> PlanView:
    uow.put(store.PLANS, plan)
    if before is not None:
        status_changes(uow, plan, before)
    await ledger.record(uow, before, plan)
    return plan_view(plan, await store.members(uow, plan["household_id"]))


async def _open_plan(uow: UnitOfWork, actor: Any, plan_id: str, what: str) -> tuple[Doc, Doc]:
    """The plan (open, and the actor's to change) and its household."""
    plan = await store.plan(uow, plan_id)
    may(actor, WRITE, plan.get("site_id"), plan, what)
    need_open(plan)
    return plan, await store.household(uow, plan["household_id"])


async def _deployed_at(uow: UnitOfWork, staff_id: str, site: str | None) -> None:
    """A plan's social worker is one housing has deployed to the site the household lives
    at (any deployed one while it lives nowhere): plans' projection of `StaffAssigned`."""
    staff = await uow.get(store.STAFF, staff_id)
    if staff is None or not staff["sites"]:
        raise NotFound(f"no social worker {staff_id!r} is deployed to any site",
                       details={"social_worker": staff_id})
    if site is not None and site not in staff["sites"]:
        raise DomainError(f"social worker {staff_id} is not deployed to site {site}, where "
                          f"the household lives",
                          details={"social_worker": staff_id, "site_id": site})


def _consent(plan: Doc, household: Doc, c: ConsentIn, by: str) -> None:
    goals.member(household, c.resident_id)
    plan["consent"][c.resident_id] = {"given": c.given, "recorded_by": by,
                                      "on": goals.not_after(c.on, today(), "consent on")}


async def create_plan(cmd: CreatePlan, uow: UnitOfWork) -> PlanView:
    household = await store.household(uow, cmd.household_id)
    may(cmd.actor, WRITE, household.get("site_id"), None, "create plans for its households")
    if household.get("plan_id"):
        raise Conflict(f"household {cmd.household_id} has an open plan "
                       f"{household['plan_id']}",
                       details={"household_id": cmd.household_id,
                                "plan_id": household["plan_id"]})
    worker = cmd.social_worker or (cmd.actor.subject if cmd.actor.role == "social_worker"
                                   else None)
    if cmd.social_worker and cmd.social_worker != cmd.actor.subject:  # named by another
        await _deployed_at(uow, cmd.social_worker, household.get("site_id"))
    plan: Doc = {"_id": derived("pl", cmd.command_id), "household_id": household["_id"],
                 "site_id": household.get("site_id"), "social_worker": worker,
                 "status": "open", "created_on": today().isoformat(), "closed_on": None,
                 "close_reason": None, "next_review": _iso(cmd.next_review),
                 "consent": {}, "reviews": [], "goals": [], "next_goal": 0}
    for c in cmd.consent:
        _consent(plan, household, c, cmd.actor.subject)
    for gin in cmd.goals:
        await goals.add_goal(uow, plan, household, gin, today())
    before_household = clone(household)
    household["plan_id"] = household["last_plan_id"] = plan["_id"]
    uow.put(store.HOUSEHOLDS, household)
    await ledger.household_moved(uow, before_household, household)
    uow.emit(PlanCreated(plan_id=plan["_id"], household_id=household["_id"],
                         site_id=plan["site_id"], social_worker=worker,
                         goals=len(plan["goals"])))
    for goal in plan["goals"]:
        _added(uow, plan, goal)
    return await save(uow, None, plan)


def _added(uow: UnitOfWork, plan: Doc, goal: Doc) -> None:
    uow.emit(GoalAdded(plan_id=plan["_id"], goal_id=goal["goal_id"],
                       household_id=plan["household_id"], field=goal["field"],
                       member=goal["resident_id"] is not None,
                       due=date.fromisoformat(goal["due"]) if goal["due"] else None))
    if goal["status"] != "open":  # facts seen before the goal was set
        status_changes(uow, plan, {"goals": [{**goal, "status": "open"}]})


def _iso(on: date | None) -> str | None:
    return on.isoformat() if on else None


async def add_goal(cmd: AddGoal, uow: UnitOfWork) -> PlanView:
    plan, household = await _open_plan(uow, cmd.actor, cmd.plan_id, "change plans")
    before = clone(plan)
    goal = await goals.add_goal(uow, plan, household, cmd.goal, today())
    _added(uow, plan, goal)
    return await save(uow, before, plan)


async def _open_goal(uow: UnitOfWork, actor: Any, goal_id: str) -> tuple[Doc, Doc, Doc, Doc]:
    """(plan, plan as it was, goal, household) for a change to an open or started goal."""
    plan = await store.plan_of_goal(uow, goal_id)
    plan, household = await _open_plan(uow, actor, plan["_id"], "change plans")
    before = clone(plan)
    goal = goal_of(plan, goal_id)
    if goal["status"] not in OPEN:
        raise Conflict(f"goal {goal_id} is {goal['status']}",
                       details={"goal_id": goal_id, "status": goal["status"]})
    return plan, before, goal, household


async def add_step(cmd: AddStep, uow: UnitOfWork) -> PlanView:
    plan, before, goal, household = await _open_goal(uow, cmd.actor, cmd.goal_id)
    await goals.add_step(uow, plan, household, goal, cmd.step)
    return await save(uow, before, plan)


async def link_goal(cmd: LinkGoal, uow: UnitOfWork) -> PlanView:
    plan, before, goal, household = await _open_goal(uow, cmd.actor, cmd.goal_id)
    if cmd.step_id is not None:
        step_of(goal, cmd.step_id)
    await goals.add_link(uow, plan, household, goal, cmd.link, cmd.step_id)
    return await save(uow, before, plan)


async def complete_step(cmd: CompleteStep, uow: UnitOfWork) -> PlanView:
    plan, before, goal, _ = await _open_goal(uow, cmd.actor, cmd.goal_id)
    step = step_of(goal, cmd.step_id)
    if step["done_on"] or step["done_by"]:
        raise Conflict(f"step {cmd.step_id} of goal {cmd.goal_id} is done already",
                       details={"goal_id": cmd.goal_id, "step_id": cmd.step_id})
    step["done_on"] = today().isoformat()
    settle(goal)
    return await save(uow, before, plan)


async def set_goal_status(cmd: SetGoalStatus, uow: UnitOfWork) -> PlanView:
    plan = await store.plan_of_goal(uow, cmd.goal_id)
    plan, _ = await _open_plan(uow, cmd.actor, plan["_id"], "change plans")
    before = clone(plan)
    goal = goal_of(plan, cmd.goal_id)
    by_hand(goal, cmd.status, cmd.reason)
    goal["manual"] = {"status": cmd.status, "reason": cmd.reason,
                      "on": today().isoformat()}
    goal["note"] = cmd.note
    settle(goal)
    return await save(uow, before, plan)


async def record_consent(cmd: RecordConsent, uow: UnitOfWork) -> PlanView:
    plan, household = await _open_plan(uow, cmd.actor, cmd.plan_id, "change plans")
    before = clone(plan)
    _consent(plan, household, cmd.consent, cmd.actor.subject)
    uow.emit(ConsentRecorded(plan_id=plan["_id"], given=cmd.consent.given, on=cmd.consent.on))
    return await save(uow, before, plan)


async def record_review(cmd: RecordReview, uow: UnitOfWork) -> PlanView:
    plan, _ = await _open_plan(uow, cmd.actor, cmd.plan_id, "review plans")
    room("reviews", len(plan["reviews"]), MAX_REVIEWS, f"plan {plan['_id']}")
    on = goals.not_after(cmd.on, today(), "a review on")
    if cmd.next_review is not None and cmd.next_review <= cmd.on:
        raise DomainError(f"the next review ({cmd.next_review.isoformat()}) must come after "
                          f"this one ({on})", details={"next_review": cmd.next_review.isoformat()})
    before = clone(plan)
    plan["reviews"].append({"on": on, "by": cmd.actor.subject, "outcome": cmd.outcome,
                            "next_review": _iso(cmd.next_review)})
    plan["next_review"] = _iso(cmd.next_review)
    uow.emit(PlanReviewed(plan_id=plan["_id"], on=cmd.on, outcome=cmd.outcome,
                          next_review=cmd.next_review))
    return await save(uow, before, plan)


async def close_plan(cmd: ClosePlan, uow: UnitOfWork) -> PlanView:
    plan, household = await _open_plan(uow, cmd.actor, cmd.plan_id, "close plans")
    before = clone(plan)
    plan.update(status="closed", close_reason=cmd.reason, closed_on=today().isoformat())
    for goal in plan["goals"]:  # a closed plan waits for nothing
        for link in goal["links"]:
            await uow.delete(store.LINKS, link["link_id"])
    before_household = clone(household)
    household["plan_id"] = None
    uow.put(store.HOUSEHOLDS, household)
    await ledger.household_moved(uow, before_household, household)
    uow.emit(PlanClosed(plan_id=plan["_id"], household_id=plan["household_id"],
                        reason=cmd.reason))
    return await save(uow, before, plan)


async def reopen_goal(cmd: ReopenGoal, uow: UnitOfWork) -> PlanView:
    plan = await store.plan_of_goal(uow, cmd.goal_id)
    plan, _ = await _open_plan(uow, cmd.actor, plan["_id"], "change plans")
    before = clone(plan)
    goal = goal_of(plan, cmd.goal_id)
    reopen(goal, today().isoformat())
    goal["note"] = cmd.note
    return await save(uow, before, plan)


async def hand_over_plan(cmd: HandOverPlan, uow: UnitOfWork) -> PlanView:
    """The plan moves to another social worker's worklist (in the same commit)."""
    plan, _ = await _open_plan(uow, cmd.actor, cmd.plan_id, "hand plans over")
    to = cmd.social_worker
    await _deployed_at(uow, to, plan.get("site_id"))
    if plan.get("social_worker") == to:
        raise Conflict(f"plan {plan['_id']} is {to}'s already",
                       details={"plan_id": plan["_id"], "social_worker": to})
    before = clone(plan)
    plan["social_worker"] = to
    uow.emit(PlanHandedOver(plan_id=plan["_id"], household_id=plan["household_id"],
                            previous=before.get("social_worker"), social_worker=to))
    return await save(uow, before, plan)
