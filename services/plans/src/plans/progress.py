"""Progress from other services' events: each fact is kept (with the event that reported
it) and given to the links waiting for it; a link added later finds the facts already
seen. Either way each link holds the earliest matching fact, so a plan ends the same
whatever order the events and links came in, and an event that comes twice changes
nothing the second time."""

from __future__ import annotations

from typing import Any

from contracts import CloudEvent
from im_runtime import UnitOfWork
from im_runtime.unit_of_work import clone
from plans import ledger, store
from plans.contracts import GoalStatusChanged
from plans.domain import earliest, fact_ref, settle, sort_key
from plans.facts import fact_of, occurrence

Doc = dict[str, Any]
# Occurrences kept per fact and subject (the earliest): a resident completes a handful of
# courses, not hundreds; the cap keeps the document bounded.
MAX_SEEN = 50


async def seen(uow: UnitOfWork, key: str) -> list[Doc]:
    doc = await uow.get(store.FACTS, key)
    return doc["seen"] if doc else []


def refresh(goal: Doc, key: str, occurrences: list[Doc]) -> None:
    """Give the goal's links for `key` their earliest match, its steps theirs, and settle."""
    for link in goal["links"]:
        if link["key"] == key:
            link["matched"] = fact_ref(link, earliest(link, occurrences))
    for step in goal["steps"]:
        found = [link["matched"] for link in goal["links"]
                 if link.get("step_id") == step["step_id"] and link.get("matched")]
        step["done_by"] = min(found, key=sort_key, default=None)
    settle(goal)


def status_changes(uow: UnitOfWork, plan: Doc, before: Doc) -> None:
    """An event for each goal whose status changed."""
    was = {g["goal_id"]: g["status"] for g in before["goals"]}
    for goal in plan["goals"]:
        old = was.get(goal["goal_id"])
        if old is not None and old != goal["status"]:
            uow.emit(GoalStatusChanged(
                plan_id=plan["_id"], goal_id=goal["goal_id"], field=goal["field"], was=old,
                status=goal["status"], reason=goal["reason"] or "fact",
                by_event=(goal.get("reached_by") or {}).get("type")))


async def on_fact(event: CloudEvent[Any], uow: UnitOfWork) -> None:
    fact = fact_of(event)
    if fact is None:
        return
    key = store.fact_key(fact.kind, fact.subject)
    doc = await uow.get(store.FACTS, key) or {"_id": key, "kind": fact.kind,
                                               "subject": fact.subject, "seen": []}
    if any(o["event_id"] == event.id for o in doc["seen"]):
        return  # the same event again
    mine = occurrence(event, fact)
    doc["seen"] = sorted([*doc["seen"], mine], key=sort_key)[:MAX_SEEN]
    doc["last_on"] = max(doc.get("last_on") or "", mine["time"][:10])
    uow.put(store.FACTS, doc)
    waiting = await uow.find(store.LINKS, {"key": key})
    for plan_id in sorted({link["plan_id"] for link in waiting}):
        plan = await uow.get(store.PLANS, plan_id)
        if plan is None or plan["status"] != "open":
            continue
        before = clone(plan)
        for goal in plan["goals"]:
            if any(link["key"] == key for link in goal["links"]):
                refresh(goal, key, doc["seen"])
        if plan != before:
            uow.put(store.PLANS, plan)
            status_changes(uow, plan, before)
            await ledger.record(uow, before, plan)
