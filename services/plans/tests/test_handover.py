"""Handing a plan to another social worker and taking a dropped goal up again, against the
in-memory store: the worklists follow in the same commit, the events say what happened,
and every refusal (bad input, a closed plan, an unauthorised role) changes nothing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest

from contracts import Actor, utcnow
from contracts.education import EnrolmentCompleted
from contracts.housing import StaffAssigned
from im_runtime import Conflict, DomainError, Forbidden, NotFound
from im_runtime.memory import MemoryStore
from plans import commands, progress, projection, reads
from plans import contracts as c

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")
SW1 = Actor(subject="sw-01", role="social_worker", sites=("s1",))
SW3 = Actor(subject="sw-03", role="social_worker", sites=("s9",))
TODAY = utcnow().date()
ME = c.Responsible(party="social_worker", id="sw-01")


@pytest.fixture
async def world(store: MemoryStore, helpers: Any) -> MemoryStore:
    await helpers.household(store, "h1", ["r1", "r2"])
    for staff, sites in (("sw-01", ["s1"]), ("sw-02", ["s1", "s2"])):
        await store.feed(projection.on_staff_assigned, StaffAssigned(
            staff_id=staff, site_ids=sites), "housing")
    return store


@pytest.fixture
def refuse(helpers: Any) -> Any:
    return helpers.refuse


async def a_plan(store: MemoryStore) -> c.PlanView:
    overdue = TODAY - timedelta(days=3)
    return await store.run(commands.create_plan, c.CreatePlan(
        actor=SW1, household_id="h1", next_review=overdue, goals=[
            c.GoalIn(resident_id="r1", field="language", title="Deutsch B1", responsible=ME,
                     due=overdue,
                     links=[c.LinkIn(fact="language_course_completed", level="B1")]),
            c.GoalIn(field="housing", title="Eigene Wohnung", responsible=ME, due=overdue)]))


async def worklist(store: MemoryStore, worker: str) -> c.WorklistView:
    return await store.run(reads.get_worklist, c.GetWorklist(actor=ADMIN, social_worker=worker))


async def test_a_plan_handed_over_moves_to_the_new_social_workers_worklist(world):
    view = await a_plan(world)
    assert view.social_worker == "sw-01"
    assert [m.resident_id for m in view.members] == ["r1", "r2"]
    before = await worklist(world, "sw-01")
    assert (before.plans_open, before.reviews_due_total,
            before.overdue_goals_total) == (1, 1, 2)
    got, events = await world.handle(commands.hand_over_plan, c.HandOverPlan(
        actor=SW1, plan_id=view.plan_id, social_worker="sw-02"))
    assert got.social_worker == "sw-02"
    assert [(type(e), e.previous, e.social_worker) for e in events] == [
        (c.PlanHandedOver, "sw-01", "sw-02")]
    old, new = await worklist(world, "sw-01"), await worklist(world, "sw-02")
    assert (old.plans_open, old.reviews_due, old.overdue_goals) == (0, [], [])
    assert (new.plans_open, new.reviews_due_total, new.overdue_goals_total) == (1, 1, 2)
    # the site's list is the same as before
    site = await world.run(reads.get_worklist, c.GetWorklist(actor=ADMIN, site_id="s1"))
    assert (site.plans_open, site.overdue_goals_total) == (1, 2)


class TestHandOverRefusals:
    async def test_an_unknown_social_worker_and_the_same_one(self, world, refuse):
        view = await a_plan(world)
        err = await refuse(world, commands.hand_over_plan, c.HandOverPlan(
            actor=ADMIN, plan_id=view.plan_id, social_worker="sw-77"), NotFound)
        assert (err.message, err.details) == ("no social worker 'sw-77' is deployed to any "
                                              "site", {"social_worker": "sw-77"})
        err = await refuse(world, commands.hand_over_plan, c.HandOverPlan(
            actor=ADMIN, plan_id=view.plan_id, social_worker="sw-01"), Conflict)
        assert err.message == f"plan {view.plan_id} is sw-01's already"
        err = await refuse(world, commands.hand_over_plan, c.HandOverPlan(
            actor=ADMIN, plan_id="nope", social_worker="sw-02"), NotFound)
        assert err.message == "no plan 'nope'"

    async def test_a_social_worker_of_another_site_or_of_none(self, world, refuse):
        view = await a_plan(world)
        for staff, sites in (("sw-03", ["s9"]), ("sw-04", [])):
            await world.feed(projection.on_staff_assigned, StaffAssigned(
                staff_id=staff, site_ids=sites), "housing")
        err = await refuse(world, commands.hand_over_plan, c.HandOverPlan(
            actor=SW1, plan_id=view.plan_id, social_worker="sw-03"), DomainError)
        assert (err.message, err.details) == (
            "social worker sw-03 is not deployed to site s1, where the household lives",
            {"social_worker": "sw-03", "site_id": "s1"})
        err = await refuse(world, commands.hand_over_plan, c.HandOverPlan(
            actor=SW1, plan_id=view.plan_id, social_worker="sw-04"), NotFound)
        assert err.message == "no social worker 'sw-04' is deployed to any site"

    async def test_unauthorised_roles_and_another_sites_social_worker(self, world, refuse):
        view = await a_plan(world)
        for actor, message in (
                (Actor(subject="op", role="operator", operator="op1"),
                 "role operator may not hand plans over"),
                (Actor(subject="au", role="auditor"), "role auditor may not hand plans over"),
                (SW3, "social worker sw-03 is not assigned to site s1 and may not hand plans "
                      "over")):
            err = await refuse(world, commands.hand_over_plan, c.HandOverPlan(
                actor=actor, plan_id=view.plan_id, social_worker="sw-02"), Forbidden)
            assert err.message == message

    async def test_a_closed_plan(self, world, refuse):
        view = await a_plan(world)
        await world.run(commands.close_plan, c.ClosePlan(actor=ADMIN, plan_id=view.plan_id,
                                                         reason="declined"))
        err = await refuse(world, commands.hand_over_plan, c.HandOverPlan(
            actor=ADMIN, plan_id=view.plan_id, social_worker="sw-02"), Conflict)
        assert err.message == f"plan {view.plan_id} is closed"


async def test_a_dropped_goal_reopened_follows_its_facts_again(world):
    view = await a_plan(world)
    gid = view.goals[0].goal_id
    await world.run(commands.set_goal_status, c.SetGoalStatus(
        actor=SW1, goal_id=gid, status="dropped", reason="no_longer_wanted"))
    assert (await worklist(world, "sw-01")).overdue_goals_total == 1
    got, events = await world.handle(commands.reopen_goal, c.ReopenGoal(
        actor=SW1, goal_id=gid, note="doch wieder"))
    assert (got.goals[0].status, got.goals[0].reason, got.goals[0].note) == (
        "open", "reopened", "doch wieder")
    assert [(type(e), e.was, e.status, e.reason) for e in events] == [
        (c.GoalStatusChanged, "dropped", "open", "reopened")]
    assert (await worklist(world, "sw-01")).overdue_goals_total == 2  # due again
    await world.feed(progress.on_fact, EnrolmentCompleted(
        resident_id="r1", enrolment_id="e1", course_id="k1", course_kind="integration_course",
        passed=True, certificate_level="B1"), "education")
    got = await world.run(reads.get_plan, c.GetPlan(actor=SW1, plan_id=view.plan_id))
    assert (got.goals[0].status, got.goals[0].reason) == ("reached", "fact")


async def test_a_goal_reopened_while_its_fact_came_is_reached_at_once(world):
    view = await a_plan(world)
    gid = view.goals[0].goal_id
    await world.run(commands.set_goal_status, c.SetGoalStatus(
        actor=ADMIN, goal_id=gid, status="dropped", reason="not_reachable"))
    await world.feed(progress.on_fact, EnrolmentCompleted(
        resident_id="r1", enrolment_id="e1", course_id="k1", course_kind="integration_course",
        passed=True, certificate_level="B1"), "education")
    got = await world.run(commands.reopen_goal, c.ReopenGoal(actor=ADMIN, goal_id=gid))
    assert (got.goals[0].status, got.goals[0].reason) == ("reached", "fact")


class TestReopenRefusals:
    async def test_only_a_dropped_goal_and_only_a_known_one(self, world, refuse):
        view = await a_plan(world)
        gid = view.goals[0].goal_id
        err = await refuse(world, commands.reopen_goal, c.ReopenGoal(actor=ADMIN, goal_id=gid),
                           Conflict)
        assert (err.message, err.details) == (
            f"goal {gid} is open; only a dropped goal can be reopened",
            {"goal_id": gid, "status": "open"})
        err = await refuse(world, commands.reopen_goal, c.ReopenGoal(
            actor=ADMIN, goal_id=f"{view.plan_id}-g9"), NotFound)
        assert err.message == f"no goal '{view.plan_id}-g9'"

    async def test_unauthorised_and_closed(self, world, refuse):
        view = await a_plan(world)
        gid = view.goals[1].goal_id
        await world.run(commands.set_goal_status, c.SetGoalStatus(
            actor=ADMIN, goal_id=gid, status="dropped", reason="replaced"))
        err = await refuse(world, commands.reopen_goal, c.ReopenGoal(
            actor=Actor(subject="pv", role="provider", provider="vhs"), goal_id=gid), Forbidden)
        assert err.message == "role provider may not change plans"
        err = await refuse(world, commands.reopen_goal, c.ReopenGoal(actor=SW3, goal_id=gid),
                           Forbidden)
        assert err.message.startswith("social worker sw-03 is not assigned to site s1")
        await world.run(commands.close_plan, c.ClosePlan(actor=ADMIN, plan_id=view.plan_id,
                                                         reason="declined"))
        err = await refuse(world, commands.reopen_goal, c.ReopenGoal(actor=ADMIN, goal_id=gid),
                           Conflict)
        assert err.message == f"plan {view.plan_id} is closed"


async def test_the_worklist_in_pages_and_by_field(world):
    view = await a_plan(world)
    first = await world.run(reads.get_worklist, c.GetWorklist(
        actor=SW1, social_worker="sw-01", limit=1))
    second = await world.run(reads.get_worklist, c.GetWorklist(
        actor=SW1, social_worker="sw-01", limit=1, offset=1))
    assert first.overdue_goals_total == second.overdue_goals_total == 2
    assert [g.goal_id for g in first.overdue_goals + second.overdue_goals] == sorted(
        g.goal_id for g in view.goals)
    housing = await world.run(reads.get_worklist, c.GetWorklist(
        actor=SW1, social_worker="sw-01", field="housing"))
    assert [(g.field, g.resident_id) for g in housing.overdue_goals] == [("housing", None)]
    assert housing.overdue_goals_total == 1 and housing.reviews_due_total == 1


async def test_the_social_workers_deployed_to_a_households_site(world):
    """What the hand-over form offers: housing's deployments, as plans keeps them."""
    listed = await world.run(reads.list_social_workers, c.ListSocialWorkers(
        actor=SW1, household_id="h1"))
    assert (listed.site_id, listed.social_workers) == ("s1", ["sw-01", "sw-02"])
    listed = await world.run(reads.list_social_workers, c.ListSocialWorkers(
        actor=ADMIN, site_id="s2"))
    assert (listed.site_id, listed.social_workers) == ("s2", ["sw-02"])
    await world.feed(projection.on_staff_assigned, StaffAssigned(  # redeployed: off s1
        staff_id="sw-02", site_ids=["s2"], previous_site_ids=["s1", "s2"]), "housing")
    listed = await world.run(reads.list_social_workers, c.ListSocialWorkers(
        actor=SW3, household_id="h1"))
    assert listed.social_workers == ["sw-01"]
    listed = await world.run(reads.list_social_workers, c.ListSocialWorkers(
        actor=ADMIN, site_id="s7"))
    assert (listed.site_id, listed.social_workers) == ("s7", [])


async def test_listing_social_workers_refuses_bad_input_and_other_roles(world, refuse):
    err = await refuse(world, reads.list_social_workers, c.ListSocialWorkers(
        actor=ADMIN, household_id="h9"), NotFound)
    assert (err.message, err.details) == ("no household 'h9'", {"household_id": "h9"})
    for both in ({}, {"site_id": "s1", "household_id": "h1"}):
        err = await refuse(world, reads.list_social_workers, c.ListSocialWorkers(
            actor=ADMIN, **both), DomainError)
        assert err.message == "give exactly one of site_id or household_id"
    err = await refuse(world, reads.list_social_workers, c.ListSocialWorkers(
        actor=Actor(subject="op", role="operator", operator="op1"), site_id="s1"), Forbidden)
    assert err.message == "role operator may not list social workers"
