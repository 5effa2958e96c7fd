"""The plans' own contracts: every message has a stored example of each version
(examples/<name>@<n>.json), and every stored example still decodes strictly."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest

from contracts import CloudEvent, event_type, wrap
from plans import contracts as c

pytestmark = pytest.mark.unit
EXAMPLES = Path(__file__).parent.parent / "examples"
ON = date(2026, 3, 2)


def messages() -> dict[str, Any]:
    out: dict[str, Any] = {event_type(t): CloudEvent[t]  # type: ignore[valid-type]
                           for t in c.EVENTS}
    out.update({f"plans.contracts.{t.__name__}": t for t in c.COMMANDS})
    return out


def test_every_message_has_a_stored_example():
    stored = {p.name.split("@")[0] for p in EXAMPLES.glob("*.json")}
    missing = set(messages()) - stored
    assert not missing, f"run this file as a script to store examples for {missing}"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_stored_examples_still_decode(path: Path):
    kind = messages()[path.name.split("@")[0]]
    msgspec.json.decode(path.read_bytes(), type=kind, strict=True)


def test_events_name_no_resident():
    """Plans' events carry plan, goal and household ids only: nothing for an erasure to
    purge from the log, and no free text."""
    for t in c.EVENTS:
        assert "resident_id" not in t.__struct_fields__, t
        assert "title" not in t.__struct_fields__ and "note" not in t.__struct_fields__


def samples() -> list[tuple[str, Any]]:
    """The first version's examples (run once to write them; never rewritten)."""
    me = c.Responsible(party="social_worker", id="sw-01")
    link = c.LinkIn(fact="language_course_completed", level="B1")
    goal = c.GoalIn(resident_id="r1", field="language", title="Deutsch B1", responsible=me,
                    due=date(2027, 6, 30), steps=[c.StepIn(
                        title="Integrationskurs A2", responsible=me,
                        link=c.LinkIn(fact="language_course_completed", level="A2"))],
                    links=[link])
    events = [
        c.PlanCreated(plan_id="pl1", household_id="h1", site_id="s1", social_worker="sw-01",
                      goals=1),
        c.GoalAdded(plan_id="pl1", goal_id="pl1-g1", household_id="h1", field="language",
                    member=True, due=date(2027, 6, 30)),
        c.GoalStatusChanged(plan_id="pl1", goal_id="pl1-g1", field="language", was="open",
                            status="reached", reason="fact",
                            by_event="im.education.enrolment_completed.v1"),
        c.ConsentRecorded(plan_id="pl1", given=True, on=ON),
        c.PlanReviewed(plan_id="pl1", on=ON, outcome="on_track", next_review=date(2026, 6, 1)),
        c.PlanClosed(plan_id="pl1", household_id="h1", reason="goals_reached"),
        c.PlanHandedOver(plan_id="pl1", household_id="h1", previous="sw-01",
                         social_worker="sw-02"),
    ]
    out: list[tuple[str, Any]] = [(event_type(type(e)), wrap(e, source="plans"))
                                  for e in events]
    ref = c.FactRef(fact="language_course_completed",
                    type="im.education.enrolment_completed.v1", event_id="ev1",
                    time="2026-03-02T10:00:00+00:00")
    commands = [
        c.CreatePlan(household_id="h1", social_worker="sw-01", next_review=date(2026, 6, 1),
                     consent=[c.ConsentIn(resident_id="r1", given=True, on=ON)], goals=[goal]),
        c.AddGoal(plan_id="pl1", goal=goal),
        c.AddStep(goal_id="pl1-g1", step=c.StepIn(title="Anmeldung", responsible=me)),
        c.LinkGoal(goal_id="pl1-g1", link=link),
        c.CompleteStep(goal_id="pl1-g1", step_id="s1"),
        c.SetGoalStatus(goal_id="pl1-g1", status="dropped", reason="replaced"),
        c.RecordConsent(plan_id="pl1", consent=c.ConsentIn(resident_id="r1", given=False,
                                                           on=ON)),
        c.RecordReview(plan_id="pl1", on=ON, outcome="on_track", next_review=date(2026, 6, 1)),
        c.ClosePlan(plan_id="pl1", reason="goals_reached"),
        c.HandOverPlan(plan_id="pl1", social_worker="sw-02"),
        c.ReopenGoal(goal_id="pl1-g1", note="wieder aufgenommen"),
        c.GetPlan(household_id="h1"),
        c.GetWorklist(site_id="s1", on=ON),
        c.PlanView(plan_id="pl1", household_id="h1", site_id="s1", social_worker="sw-01",
                   state="open", created_on=ON, goals=[c.GoalView(
                       goal_id="pl1-g1", resident_id="r1", field="language",
                       title="Deutsch B1", responsible=me, due=None, set_on=ON,
                       status="reached", reason="fact", reached_on=ON, reached_by=ref,
                       steps=[c.StepView(step_id="s1", title="A2", responsible=me, done=True,
                                         done_by=ref)],
                       links=[c.LinkView(link_id="pl1-g1-l1", fact="language_course_completed",
                                         subject="r1", level="B1")])]),
        c.WorklistView(scope="site", id="s1", on=ON, plans_open=1,
                       reviews_due=[c.ReviewDue(plan_id="pl1", household_id="h1", due=ON)],
                       overdue_goals=[c.GoalDue(goal_id="pl1-g1", plan_id="pl1",
                                                household_id="h1", resident_id="r1",
                                                field="language", due=ON)],
                       households_without_plan=["h2"]),
        c.ListSocialWorkers(household_id="h1"),
        c.SocialWorkers(site_id="s1", social_workers=["sw-01", "sw-02"]),
    ]
    out += [(f"plans.contracts.{type(m).__name__}", m) for m in commands]
    return out


if __name__ == "__main__":
    EXAMPLES.mkdir(exist_ok=True)
    for name, message in samples():
        path = EXAMPLES / f"{name}@1.json"
        if not path.exists():
            path.write_bytes(msgspec.json.format(msgspec.json.encode(message)) + b"\n")
