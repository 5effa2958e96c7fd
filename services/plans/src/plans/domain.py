"""Plans' rules, free of I/O: a goal's status from what was done by hand and which facts
matched its links, the hand-made transitions allowed, and when a fact matches a link.

A goal's status is a function of the set of facts seen, never of their order: each link
keeps the earliest matching fact (by event time, then id), and the status is computed
from those and the hand-made status, so events that come twice or out of order leave
the same goal."""

from __future__ import annotations

from typing import Any

from im_runtime.errors import Conflict, DomainError, NotFound

Doc = dict[str, Any]
LEVELS = ("A1", "A2", "B1")
OPEN = ("open", "in_progress")
DROP_REASONS = frozenset({"moved_away", "no_longer_wanted", "not_reachable", "replaced",
                          "other"})
# What a hand-made change may say: status -> the reasons that fit it.
BY_HAND: dict[str, frozenset[str]] = {
    "in_progress": frozenset({"started"}),
    "reached": frozenset({"confirmed"}),
    "dropped": DROP_REASONS,
}
MAX_STEPS, MAX_LINKS, MAX_GOALS, MAX_REVIEWS = 20, 10, 50, 200


def sort_key(occurrence: Doc) -> tuple[str, str]:
    return occurrence["time"], occurrence["event_id"]


def matches(link: Doc, occurrence: Doc) -> bool:
    """Whether a fact occurrence satisfies the link's conditions."""
    attrs = occurrence.get("attrs", {})
    if link.get("level"):
        have = attrs.get("level")
        if have not in LEVELS or LEVELS.index(have) < LEVELS.index(link["level"]):
            return False
    for field, attr in (("phase", "phase"), ("placement_kind", "kind"), ("topic", "topic")):
        if link.get(field) is not None and attrs.get(attr) != link[field]:
            return False
    return True


def earliest(link: Doc, seen: list[Doc]) -> Doc | None:
    """The earliest occurrence that satisfies the link (None: none yet)."""
    fitting = [o for o in seen if matches(link, o)]
    return min(fitting, key=sort_key, default=None)


def fact_ref(link: Doc, occurrence: Doc | None) -> Doc | None:
    if occurrence is None:
        return None
    return {"fact": link["fact"], "type": occurrence["type"],
            "event_id": occurrence["event_id"], "time": occurrence["time"]}


def step_done(step: Doc) -> bool:
    return bool(step.get("done_on") or step.get("done_by"))


def step_done_on(step: Doc) -> str:
    """The day a step was done: by its fact, or by hand (the earlier of the two)."""
    days = [d for d in (step.get("done_on"), (step.get("done_by") or {}).get("time", "")[:10])
            if d]
    return min(days)


def settle(goal: Doc) -> Doc:
    """Set the goal's status, reason, reached_by and reached_on from its hand-made status,
    its goal links' matches and its steps: reached by hand, by a fact of its own links, or
    (with no link of its own) when every step is done; in progress once a step is done
    or by hand; else open. Returns the goal."""
    manual = goal.get("manual") or {}
    own = [link for link in goal["links"] if not link.get("step_id")]
    matched = [m for link in own if (m := link.get("matched"))]
    steps = goal["steps"]
    status, reason, by, on = "open", None, None, None
    if manual.get("status") in ("dropped", "reached"):
        status, reason, on = manual["status"], manual["reason"], manual["on"]
    elif matched:
        by = min(matched, key=sort_key)
        status, reason, on = "reached", "fact", by["time"][:10]
    elif steps and not own and all(step_done(s) for s in steps):
        # (a goal linked to a fact of its own waits for it, whatever its steps)
        status, reason = "reached", "steps_done"
        on = max(step_done_on(s) for s in steps)
    elif any(step_done(s) for s in steps):
        status, reason = "in_progress", "fact" if any(s.get("done_by") for s in steps) \
            else "started"
        if manual.get("status") == "in_progress":
            reason = manual["reason"]
    elif manual.get("status") == "in_progress":
        status, reason = "in_progress", manual["reason"]
    elif manual.get("reason") == "reopened":
        reason = "reopened"
    goal.update(status=status, reason=reason,
                reached_by=by if status == "reached" else None,
                reached_on=on if status == "reached" else None)
    return goal


def by_hand(goal: Doc, wanted: str, reason: str) -> None:
    """Check a hand-made status change (raises with the rule broken)."""
    gid, current = goal["goal_id"], goal["status"]
    if current not in OPEN:
        raise Conflict(f"goal {gid} is {current}; it cannot become {wanted}",
                       details={"goal_id": gid, "status": current, "wanted": wanted})
    if wanted not in BY_HAND:
        raise Conflict(f"goal {gid} is {current}; it cannot become {wanted} by hand",
                       details={"goal_id": gid, "status": current, "wanted": wanted})
    if reason not in BY_HAND[wanted]:
        allowed = ", ".join(sorted(BY_HAND[wanted]))
        raise DomainError(f"a goal becomes {wanted} with reason {allowed}, not {reason}",
                          details={"reason": reason, "allowed": allowed})


def reopen(goal: Doc, on: str) -> None:
    """A dropped goal taken up again: its status follows its steps and facts once more."""
    if goal["status"] != "dropped":
        raise Conflict(f"goal {goal['goal_id']} is {goal['status']}; only a dropped goal "
                       f"can be reopened",
                       details={"goal_id": goal["goal_id"], "status": goal["status"]})
    goal["manual"] = {"status": "open", "reason": "reopened", "on": on}
    settle(goal)


def need_open(plan: Doc) -> None:
    if plan["status"] != "open":
        raise Conflict(f"plan {plan['_id']} is closed",
                       details={"plan_id": plan["_id"], "status": plan["status"]})


def goal_of(plan: Doc, goal_id: str) -> Doc:
    for goal in plan["goals"]:
        if goal["goal_id"] == goal_id:
            return goal
    raise NotFound(f"no goal {goal_id!r}", details={"goal_id": goal_id})


def step_of(goal: Doc, step_id: str) -> Doc:
    for step in goal["steps"]:
        if step["step_id"] == step_id:
            return step
    raise NotFound(f"no step {step_id!r} in goal {goal['goal_id']}",
                   details={"step_id": step_id})


def room(what: str, have: int, limit: int, owner: str) -> None:
    if have >= limit:
        raise Conflict(f"{owner} has {limit} {what} already; no more can be added",
                       details={"limit": str(limit)})
