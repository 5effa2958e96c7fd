"""Plan documents as the replies and sections show them."""

from __future__ import annotations

from typing import Any

import msgspec

from plans.contracts import PlanView

Doc = dict[str, Any]
_LINK = ("link_id", "fact", "subject", "step_id", "level", "phase", "placement_kind", "topic")


def goal_view(goal: Doc) -> Doc:
    return {
        "goal_id": goal["goal_id"], "resident_id": goal["resident_id"], "field": goal["field"],
        "title": goal["title"], "responsible": goal["responsible"], "due": goal["due"],
        "set_on": goal["set_on"], "status": goal["status"], "reason": goal["reason"],
        "note": goal.get("note"), "reached_on": goal["reached_on"],
        "reached_by": goal["reached_by"],
        "steps": [{"step_id": s["step_id"], "title": s["title"],
                   "responsible": s["responsible"], "due": s["due"],
                   "done": bool(s["done_on"] or s["done_by"]), "done_by": s["done_by"]}
                  for s in goal["steps"]],
        "links": [{k: link[k] for k in _LINK} for link in goal["links"]]}


def plan_view(plan: Doc, members: list[str] | None = None) -> PlanView:
    view = {
        "plan_id": plan["_id"], "household_id": plan["household_id"],
        "site_id": plan.get("site_id"), "social_worker": plan.get("social_worker"),
        "state": plan["status"], "created_on": plan["created_on"],
        "next_review": plan.get("next_review"), "close_reason": plan.get("close_reason"),
        "consent": [{"resident_id": rid, **c} for rid, c in sorted(plan["consent"].items())],
        "reviews": plan["reviews"], "goals": [goal_view(g) for g in plan["goals"]],
        "members": [{"resident_id": r} for r in members or ()]}
    # Stored dates are ISO strings: converted, not re-validated field by field by hand.
    return msgspec.convert(view, PlanView, strict=False)
