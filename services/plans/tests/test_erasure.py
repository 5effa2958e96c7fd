"""Erasing a resident from plans: nothing about them is left (id, goal titles, notes,
links, facts, worklist entries, consent), the housemate's part of the plan stays, and the
city's and the site's figures do not change. Retention removes closed plans, old facts
and households that left the city, and nothing else."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest

from contracts import Actor, utcnow
from contracts.education import EnrolmentCompleted
from contracts.housing import ResidentMovedOut, StaffAssigned
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from im_runtime import retention
from im_runtime.memory import MemoryStore
from plans import commands, erasure, progress, projection, queries
from plans import contracts as c
from plans.plugin import spec

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")
ME = c.Responsible(party="social_worker", id="sw-01")
PAST = utcnow().date() - timedelta(days=10)


async def a_plan(store: MemoryStore, helpers: Any) -> c.PlanView:
    await helpers.household(store, "h1", ["r1", "r2"])
    await store.feed(projection.on_staff_assigned, StaffAssigned(
        staff_id="sw-01", site_ids=["s1"]), "housing", helpers.t(0))
    await store.feed(progress.on_fact, EnrolmentCompleted(
        resident_id="r1", enrolment_id="e1", course_id="k1", course_kind="integration_course",
        passed=True, certificate_level="A2"), "education")
    return await store.run(commands.create_plan, c.CreatePlan(
        actor=ADMIN, household_id="h1", social_worker="sw-01", next_review=PAST,
        consent=[c.ConsentIn(resident_id="r1", given=True, on=PAST)], goals=[
            c.GoalIn(resident_id="r1", field="language", title="Deutsch B1 für Amal",
                     responsible=ME, due=PAST, steps=[c.StepIn(
                         title="A2 für Amal", responsible=ME,
                         link=c.LinkIn(fact="language_course_completed", level="A2"))],
                     links=[c.LinkIn(fact="language_course_completed", level="B1")]),
            c.GoalIn(field="neighbourhood", title="Tandem", responsible=ME, due=PAST,
                     links=[c.LinkIn(fact="tandem_started", resident_id="r1")]),
            c.GoalIn(resident_id="r2", field="work", title="Arbeit", responsible=ME,
                     due=PAST)]))


async def figures(store: MemoryStore) -> tuple[Any, Any]:
    return (await store.ask(queries.city_stats, GetCityStats()),
            await store.ask(queries.site_overview, GetSiteOverview(site_id="s1")))


async def test_an_erasure_leaves_nothing_about_the_resident(store, helpers):
    view = await a_plan(store, helpers)
    await store.run(commands.set_goal_status, c.SetGoalStatus(
        actor=ADMIN, goal_id=view.goals[0].goal_id, status="in_progress", reason="started",
        note="Amal fragt nach Abendkurs"))
    assert store.mentions("r1") and store.mentions("Amal")
    before = await figures(store)
    done = await store.run(erasure.erase, "r1")
    assert store.mentions("r1") == [] and store.mentions("Amal") == []
    assert done.removed == {"residents": 1, "facts": 1}
    assert done.anonymised == {"plans": 1, "households": 1}
    assert await figures(store) == before
    plan = store.collections["plans"][view.plan_id]
    assert [g["resident_id"] for g in plan["goals"]][2] == "r2"
    assert [g["title"] for g in plan["goals"]] == ["-", "Tandem", "Arbeit"]
    assert store.collections["households"]["h1"]["members"] == ["r2"]
    section = await store.ask(queries.resident_overview, GetResidentOverview(resident_id="r2"))
    assert [g["field"] for g in section["plan"]["goals"]] == ["neighbourhood", "work"]
    # no link waits for a fact about the erased resident any more
    assert {link["subject"] for link in store.collections["links"].values()} == set()


async def test_retention_removes_what_is_past_its_period_only(store, helpers):
    view = await a_plan(store, helpers)
    await helpers.household(store, "h2", ["r3"], at=50)
    await store.run(commands.close_plan, c.ClosePlan(actor=ADMIN, plan_id=view.plan_id,
                                                     reason="moved_away"))
    await store.feed(projection.on_resident, ResidentMovedOut(
        resident_id="r3", household_id="h2", site_id="s1", reason="other_municipality",
        moved_out=date(2026, 4, 1)), "housing", helpers.t(500))
    uow = store.unit_of_work("plans")
    soon = await retention.apply_retention(spec, uow, datetime.now(UTC), dry_run=True)
    assert retention.expired_counts(soon) == {"closed_plans": 0, "facts": 0, "residents": 0,
                                              "households": 0}
    later = datetime.now(UTC) + timedelta(days=1096)
    result = await retention.apply_retention(spec, uow, later, dry_run=False)
    await uow.commit()
    assert retention.expired_counts(result) == {"closed_plans": 1, "facts": 1, "residents": 1,
                                                "households": 1}
    assert set(store.collections["households"]) == {"h1"}
