"""Worklists and the city's figures, kept in the same commit as every change to a plan.

What a plan contributes (its open reviews and due goals to its site's and its social
worker's worklists, its goals to the city's counts) is a function of the plan alone; a
change takes away what the plan contributed before and adds what it contributes after.
So the lists and counts are right whatever order the changes came in, and a read is one
document, never a scan."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from im_runtime import UnitOfWork
from plans import store

Doc = dict[str, Any]
HALF_YEAR, YEAR = 183, 365


@dataclass
class Share:
    """What one plan puts into the lists and counts."""

    lists: dict[str, dict[str, Doc]] = field(default_factory=dict)  # list -> reviews, goals
    open_in: set[str] = field(default_factory=set)  # lists where the plan counts as open
    counts: Counter[str] = field(default_factory=Counter)  # "section|key" -> n


def _within(goal: Doc, days: int) -> bool:
    reached = date.fromisoformat(goal["reached_on"])
    return (reached - date.fromisoformat(goal["set_on"])).days <= days


def share(plan: Doc | None) -> Share:
    out = Share()
    if plan is None:
        return out
    is_open = plan["status"] == "open"
    out.counts[f"plans|{plan['status']}"] += 1
    if any(c["given"] for c in plan.get("consent", {}).values()):
        out.counts["consent_given|"] += 1
    where = [store.site_list(plan["site_id"])] if plan.get("site_id") else []
    if plan.get("social_worker"):
        where.append(store.worker_list(plan["social_worker"]))
    for list_id in where:
        entries: dict[str, Doc] = {"reviews": {}, "goals": {}}
        if is_open:
            out.open_in.add(list_id)
            if plan.get("next_review"):
                entries["reviews"][plan["_id"]] = {"due": plan["next_review"],
                                                   "household_id": plan["household_id"]}
        out.lists[list_id] = entries
    for goal in plan["goals"]:
        out.counts[f"goals|{goal['field']}|{goal['status']}"] += 1
        month = goal["set_on"][:7]
        out.counts[f"set|{month}"] += 1
        if goal["status"] == "reached":
            out.counts[f"within_6|{month}"] += _within(goal, HALF_YEAR)
            out.counts[f"within_12|{month}"] += _within(goal, YEAR)
        if is_open and goal.get("due") and goal["status"] in ("open", "in_progress"):
            entry = {"due": goal["due"], "plan_id": plan["_id"],
                     "household_id": plan["household_id"], "resident_id": goal["resident_id"],
                     "field": goal["field"]}
            for entries in out.lists.values():
                entries["goals"][goal["goal_id"]] = entry
    return out


async def record(uow: UnitOfWork, before: Doc | None, after: Doc | None) -> None:
    """Move the lists and counts from what `before` contributed to what `after` does."""
    old, new = share(before), share(after)
    for list_id in sorted(old.lists.keys() | new.lists.keys()):
        was, now = old.lists.get(list_id, {}), new.lists.get(list_id, {})
        opened = (list_id in new.open_in) - (list_id in old.open_in)
        if was == now and not opened:
            continue
        doc = await store.worklist(uow, list_id)
        for part in ("reviews", "goals"):
            for key in was.get(part, {}):
                doc[part].pop(key, None)
            doc[part].update(now.get(part, {}))
        doc["plans_open"] += opened
        await _save_list(uow, doc)
    delta = Counter(new.counts)
    delta.subtract(old.counts)
    if any(delta.values()):
        city = await store.city(uow)
        for key, n in delta.items():
            if n:
                _add(city, key, n)
        uow.put(store.STATS, city)


async def _save_list(uow: UnitOfWork, doc: Doc) -> None:
    """An empty list is no document: the same lists whatever way they emptied."""
    if doc["plans_open"] or doc["reviews"] or doc["goals"] or doc["unplanned"]:
        uow.put(store.WORKLISTS, doc)
    elif await uow.get(store.WORKLISTS, doc["_id"]) is not None:
        await uow.delete(store.WORKLISTS, doc["_id"])


def _add(city: Doc, key: str, n: int) -> None:
    section, _, rest = key.partition("|")
    if section == "consent_given":
        city["consent_given"] += n
        return
    if section == "goals":
        field_, status = rest.split("|")
        counts = city["goals"].setdefault(field_, {})
        counts[status] = counts.get(status, 0) + n
        if not counts[status]:
            del counts[status]
        return
    counts = city[section]
    counts[rest] = counts.get(rest, 0) + n
    if not counts[rest]:
        del counts[rest]


async def household_moved(uow: UnitOfWork, before: Doc | None, after: Doc) -> None:
    """Households without a plan, per site and for the city, from a household's change."""
    def unplanned_at(h: Doc | None) -> str | None:
        return h["site_id"] if h and h.get("site_id") and not h.get("plan_id") else None

    def housed(h: Doc | None) -> bool:
        return bool(h and h.get("site_id"))

    was, now = unplanned_at(before), unplanned_at(after)
    if was != now:
        for list_id, add in ((was, False), (now, True)):
            if list_id is None:
                continue
            doc = await store.worklist(uow, store.site_list(list_id))
            ids = set(doc["unplanned"]) - {after["_id"]}
            doc["unplanned"] = sorted(ids | {after["_id"]} if add else ids)
            await _save_list(uow, doc)
    counted = (housed(after) - housed(before), (now is not None) - (was is not None))
    if any(counted):
        city = await store.city(uow)
        city["households"] += counted[0]
        city["unplanned"] += counted[1]
        uow.put(store.STATS, city)
