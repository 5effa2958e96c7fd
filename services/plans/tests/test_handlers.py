"""Plans' handlers against the in-memory store: a plan with goals, links moved by facts
(before or after the link), hand-made changes, refusals that change nothing, worklists
and the city's counts."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import pytest

from contracts import Actor, utcnow
from contracts.education import EnrolmentCompleted
from contracts.housing import MoveOutCaseClosed, ResidentTransferred, StaffAssigned
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from im_runtime import Conflict, DomainError, Forbidden, NotFound
from im_runtime.memory import MemoryStore
from plans import commands, progress, projection, queries, reads
from plans import contracts as c

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")
SW = Actor(subject="sw-01", role="social_worker", sites=("s1",))
TODAY = utcnow().date()
ME = c.Responsible(party="social_worker", id="sw-01")


def completed(rid: str, level: str | None, passed: bool = True) -> EnrolmentCompleted:
    return EnrolmentCompleted(resident_id=rid, enrolment_id=f"e-{rid}-{level}", course_id="k1",
                              course_kind="integration_course", passed=passed,
                              certificate_level=level)  # type: ignore[arg-type]


def language_goal(rid: str = "r1", **kw: Any) -> c.GoalIn:
    return c.GoalIn(resident_id=rid, field="language", title="Deutsch B1", responsible=ME,
                    links=[c.LinkIn(fact="language_course_completed", level="B1")], **kw)


def housing_goal(**kw: Any) -> c.GoalIn:
    return c.GoalIn(field="housing", title="Eigene Wohnung", responsible=ME,
                    links=[c.LinkIn(fact="moved_out")], **kw)


@pytest.fixture
def refuse(helpers: Any) -> Any:
    return helpers.refuse


@pytest.fixture
async def world(store: MemoryStore, helpers: Any) -> MemoryStore:
    await helpers.household(store, "h1", ["r1", "r2"])
    await helpers.household(store, "h2", ["r3"], site="s2", at=100)
    await store.feed(projection.on_staff_assigned, StaffAssigned(  # housing deployed her
        staff_id="sw-01", site_ids=["s1"]), "housing", helpers.t(0))
    return store


async def plan(store: MemoryStore, *goals: c.GoalIn, actor: Actor = ADMIN, **kw: Any) -> Any:
    return await store.run(commands.create_plan, c.CreatePlan(
        actor=actor, household_id="h1", goals=list(goals), **kw))


async def test_a_language_goal_is_reached_when_the_course_is_completed_at_the_level(world):
    view = await plan(world, language_goal(), housing_goal(), social_worker="sw-01")
    (lang, home) = view.goals
    assert (lang.status, home.status, lang.links[0].subject) == ("open", "open", "r1")
    events = await world.feed(progress.on_fact, completed("r1", "A2"), "education")
    assert events == []  # A2 is not B1
    events = await world.feed(progress.on_fact, completed("r1", "B1"), "education")
    assert [(e.goal_id, e.status, e.reason, e.by_event) for e in events] == [
        (lang.goal_id, "reached", "fact", "im.education.enrolment_completed.v1")]
    got = await world.run(reads.get_plan, c.GetPlan(actor=ADMIN, plan_id=view.plan_id))
    assert got.goals[0].reached_by is not None and got.goals[0].reached_on is not None
    assert got.goals[1].status == "open"


async def test_a_fact_reported_before_the_link_counts_as_well(world):
    await world.feed(progress.on_fact, MoveOutCaseClosed(
        resident_id="r1", case_id="mc1", household_id="h1", outcome="moved_out"), "housing")
    await world.feed(progress.on_fact, completed("r1", "A1", passed=False), "education")
    view = await plan(world, housing_goal(), language_goal())
    assert [g.status for g in view.goals] == ["reached", "open"]
    assert view.goals[0].reached_by.type == "im.housing.move_out_case_closed.v1"


async def test_steps_linked_to_facts_move_the_goal_to_in_progress_then_reached(world, refuse):
    goal = c.GoalIn(resident_id="r1", field="work", title="Arbeit", responsible=ME, steps=[
        c.StepIn(title="Programm", responsible=ME,
                 link=c.LinkIn(fact="programme_phase_completed", phase=1)),
        c.StepIn(title="Bewerbungen", responsible=c.Responsible(party="resident"))])
    view = await plan(world, goal)
    gid = view.goals[0].goal_id
    from contracts.employment import ParticipantMovedToNextPhase
    await world.feed(progress.on_fact, ParticipantMovedToNextPhase(
        resident_id="r1", participation_id="p1", programme_id="pr", phase=2, from_phase=1,
        status="registered"), "employment")
    got = await world.run(reads.get_plan, c.GetPlan(actor=ADMIN, household_id="h1"))
    assert (got.goals[0].status, got.goals[0].reason) == ("in_progress", "fact")
    assert got.goals[0].steps[0].done_by is not None
    done = await world.run(commands.complete_step, c.CompleteStep(
        actor=ADMIN, goal_id=gid, step_id="s2"))
    assert (done.goals[0].status, done.goals[0].reason) == ("reached", "steps_done")
    await refuse(world, commands.complete_step, c.CompleteStep(
        actor=ADMIN, goal_id=gid, step_id="s2"), Conflict)


async def test_status_by_hand_with_reasons(world, refuse):
    view = await plan(world, language_goal(), housing_goal())
    gid = view.goals[0].goal_id
    err = await refuse(world, commands.set_goal_status, c.SetGoalStatus(
        actor=ADMIN, goal_id=gid, status="dropped", reason="confirmed"), DomainError)
    assert err.message == ("a goal becomes dropped with reason moved_away, no_longer_wanted, "
                           "not_reachable, other, replaced, not confirmed")
    got = await world.run(commands.set_goal_status, c.SetGoalStatus(
        actor=ADMIN, goal_id=gid, status="in_progress", reason="started"))
    assert (got.goals[0].status, got.goals[0].reason) == ("in_progress", "started")
    got = await world.run(commands.set_goal_status, c.SetGoalStatus(
        actor=ADMIN, goal_id=gid, status="dropped", reason="replaced", note="now A2 first"))
    assert (got.goals[0].status, got.goals[0].note) == ("dropped", "now A2 first")
    err = await refuse(world, commands.set_goal_status, c.SetGoalStatus(
        actor=ADMIN, goal_id=gid, status="in_progress", reason="started"), Conflict)
    assert err.message == f"goal {gid} is dropped; it cannot become in_progress"
    # a dropped goal stays dropped when its fact comes after all
    await world.feed(progress.on_fact, completed("r1", "B1"), "education")
    got = await world.run(reads.get_plan, c.GetPlan(actor=ADMIN, plan_id=view.plan_id))
    assert got.goals[0].status == "dropped"


class TestRefusals:
    async def test_unknown_household_and_resident(self, world, refuse):
        err = await refuse(world, commands.create_plan, c.CreatePlan(
            actor=ADMIN, household_id="nope"), NotFound)
        assert (err.message, err.details) == ("no household 'nope'", {"household_id": "nope"})
        err = await refuse(world, commands.create_plan, c.CreatePlan(
            actor=ADMIN, household_id="h1", goals=[language_goal("r3")]), NotFound)
        assert err.message == "no resident 'r3' in household h1"

    async def test_a_resident_fact_on_a_household_goal_must_name_the_resident(self, world, refuse):
        goal = c.GoalIn(field="language", title="Deutsch", responsible=ME,
                        links=[c.LinkIn(fact="language_course_completed")])
        err = await refuse(world, commands.create_plan, c.CreatePlan(
            actor=ADMIN, household_id="h1", goals=[goal]), DomainError)
        assert err.code == "bad_request" and "must name resident_id" in err.message

    async def test_another_sites_social_worker_and_other_roles(self, world, refuse):
        other = Actor(subject="sw-02", role="social_worker", sites=("s2",))
        err = await refuse(world, commands.create_plan, c.CreatePlan(
            actor=other, household_id="h1"), Forbidden)
        assert err.message == ("social worker sw-02 is not assigned to site s1 and may not "
                               "create plans for its households")
        err = await refuse(world, commands.create_plan, c.CreatePlan(
            actor=Actor(subject="op", role="operator", operator="op1"), household_id="h1"),
            Forbidden)
        assert err.message == "role operator may not create plans for its households"
        view = await plan(world, language_goal(), actor=SW)
        assert view.social_worker == "sw-01"
        err = await refuse(world, reads.get_plan, c.GetPlan(actor=other, plan_id=view.plan_id),
                           Forbidden)
        assert err.message == ("social worker sw-02 is not assigned to site s1 and may not "
                               "read plans")

    async def test_a_plan_for_a_social_worker_not_deployed_to_the_households_site(
            self, world, helpers, refuse):
        await world.feed(projection.on_staff_assigned, StaffAssigned(
            staff_id="sw-02", site_ids=["s2"]), "housing", helpers.t(0))
        err = await refuse(world, commands.create_plan, c.CreatePlan(
            actor=ADMIN, household_id="h1", social_worker="sw-02"), DomainError)
        assert (err.message, err.details) == (
            "social worker sw-02 is not deployed to site s1, where the household lives",
            {"social_worker": "sw-02", "site_id": "s1"})
        err = await refuse(world, commands.create_plan, c.CreatePlan(
            actor=SW, household_id="h1", social_worker="sw-77"), NotFound)
        assert err.message == "no social worker 'sw-77' is deployed to any site"
        # she may name herself (as she may make the plan: her own sites come with her)
        assert (await plan(world, actor=SW, social_worker="sw-01")).social_worker == "sw-01"

    async def test_a_review_of_a_closed_plan(self, world, refuse):
        view = await plan(world)
        await world.run(commands.close_plan, c.ClosePlan(actor=ADMIN, plan_id=view.plan_id,
                                                         reason="declined"))
        err = await refuse(world, commands.record_review, c.RecordReview(
            actor=ADMIN, plan_id=view.plan_id, on=TODAY, outcome="on_track"), Conflict)
        assert (err.message, err.details) == (f"plan {view.plan_id} is closed", {
            "plan_id": view.plan_id, "status": "closed"})

    async def test_a_second_open_plan_and_dates(self, world, refuse):
        view = await plan(world)
        err = await refuse(world, commands.create_plan, c.CreatePlan(
            actor=ADMIN, household_id="h1"), Conflict)
        assert err.message == f"household h1 has an open plan {view.plan_id}"
        tomorrow = TODAY + timedelta(days=1)
        err = await refuse(world, commands.record_review, c.RecordReview(
            actor=ADMIN, plan_id=view.plan_id, on=tomorrow, outcome="on_track"), DomainError)
        assert err.message == f"a review on {tomorrow.isoformat()} lies in the future"
        err = await refuse(world, commands.record_review, c.RecordReview(
            actor=ADMIN, plan_id=view.plan_id, on=TODAY, outcome="on_track",
            next_review=TODAY), DomainError)
        assert err.message.startswith("the next review")


async def test_worklists_and_counts_follow_every_change(world, refuse):
    last_month = TODAY - timedelta(days=30)
    view = await plan(world, language_goal(due=last_month), housing_goal(
        due=TODAY + timedelta(days=60)), social_worker="sw-01", next_review=last_month)
    site = await world.run(reads.get_worklist, c.GetWorklist(actor=SW, site_id="s1"))
    mine = await world.run(reads.get_worklist, c.GetWorklist(actor=SW, social_worker="sw-01"))
    for wl in (site, mine):
        assert wl.plans_open == 1
        assert [r.plan_id for r in wl.reviews_due] == [view.plan_id]
        assert [(g.goal_id, g.resident_id) for g in wl.overdue_goals] == [
            (view.goals[0].goal_id, "r1")]
    assert site.households_without_plan == []
    # the social worker's list names the households without a plan at their sites
    assert mine.households_without_plan == []
    await world.feed(projection.on_staff_assigned, StaffAssigned(
        staff_id="sw-01", site_ids=["s1", "s2"]), "housing")
    mine = await world.run(reads.get_worklist, c.GetWorklist(actor=SW, social_worker="sw-01"))
    assert mine.households_without_plan == ["h2"]
    err = await refuse(world, reads.get_worklist, c.GetWorklist(
        actor=SW, social_worker="sw-02"), Forbidden)
    assert err.message == "social worker sw-01 may read only their own worklist"
    err = await refuse(world, reads.get_worklist, c.GetWorklist(actor=SW), DomainError)
    assert err.message == "give exactly one of site_id or social_worker"
    s2 = await world.ask(queries.site_overview, GetSiteOverview(site_id="s2"))
    assert s2 == {"plans_open": 0, "households_without_plan": 1, "reviews_due": 0,
                  "overdue_goals": 0}
    await world.run(commands.record_review, c.RecordReview(
        actor=SW, plan_id=view.plan_id, on=TODAY, outcome="needs_support",
        next_review=TODAY + timedelta(days=90)))
    await world.feed(progress.on_fact, completed("r1", "B1"), "education")
    s1 = await world.ask(queries.site_overview, GetSiteOverview(site_id="s1"))
    assert s1 == {"plans_open": 1, "households_without_plan": 0, "reviews_due": 0,
                  "overdue_goals": 0}
    stats = await world.ask(queries.city_stats, GetCityStats())
    assert stats["plans"] == {"open": 1, "closed": 0}
    assert (stats["households"], stats["households_without_plan"]) == (2, 1)
    assert stats["goals_by_field"] == {"housing": {"open": 1}, "language": {"reached": 1}}
    # The household moves: its plan goes to the new site's worklist.
    await world.feed(projection.on_resident, ResidentTransferred(
        resident_id="r1", household_id="h1", from_site_id="s1", site_id="s2",
        moved_on=date(2026, 4, 1)), "housing")
    s2 = await world.ask(queries.site_overview, GetSiteOverview(site_id="s2"))
    assert (s2["plans_open"], s2["households_without_plan"]) == (1, 1)
    # nothing left at s1: no section
    assert await world.ask(queries.site_overview, GetSiteOverview(site_id="s1")) is None
    await world.run(commands.close_plan, c.ClosePlan(actor=ADMIN, plan_id=view.plan_id,
                                                     reason="goals_reached"))
    stats = await world.ask(queries.city_stats, GetCityStats())
    assert stats["plans"] == {"open": 0, "closed": 1}
    assert stats["households_without_plan"] == 2
    assert world.collections["links"] == {}


async def test_sections(world):
    view = await plan(world, language_goal(), housing_goal(), consent=[
        c.ConsentIn(resident_id="r1", given=True, on=TODAY)])
    section = await world.ask(queries.resident_overview, GetResidentOverview(resident_id="r2"))
    assert [g["for"] for g in section["plan"]["goals"]] == ["household"]
    section = await world.ask(queries.resident_overview, GetResidentOverview(resident_id="r1"))
    assert section["plan"]["plan_id"] == view.plan_id and section["plan"]["consent"] is True
    assert len(section["plan"]["goals"]) == 2
    op = Actor(subject="op", role="operator", operator="op1")
    assert await world.ask(queries.resident_overview,
                           GetResidentOverview(actor=op, resident_id="r1")) is None
    assert await world.ask(queries.resident_overview,
                           GetResidentOverview(resident_id="nobody")) is None
    stats = await world.ask(queries.city_stats, GetCityStats())
    assert stats["consent_given"] == 1


async def test_the_share_reached_within_six_and_twelve_months(world):
    def ago(days: int) -> date:
        return TODAY - timedelta(days=days)

    view = await plan(world,
                      language_goal(set_on=ago(400)),  # reached by its fact after 100 days
                      housing_goal(set_on=ago(400)),  # confirmed by hand today
                      c.GoalIn(field="health", title="Arzt", responsible=ME, set_on=ago(250)),
                      c.GoalIn(field="work", title="Arbeit", responsible=ME))  # set today
    at = datetime.combine(ago(300), time(12), UTC)
    await world.feed(progress.on_fact, completed("r1", "B1"), "education", at=at)
    await world.run(commands.set_goal_status, c.SetGoalStatus(
        actor=ADMIN, goal_id=view.goals[1].goal_id, status="reached", reason="confirmed"))
    stats = await world.ask(queries.city_stats, GetCityStats())
    assert stats["reached_within_6_months"] == {"goals": 3, "reached": 1, "share": 0.333}
    assert stats["reached_within_12_months"] == {"goals": 2, "reached": 1, "share": 0.5}
