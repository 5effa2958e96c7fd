"""Plans with the real servers and the real services: housing registers a household,
plans learns of it from housing's events, a social worker sets its plan, and education
and housing move the plan forward with no command to plans: a language goal is reached
when education completes the enrolment at B1, a Kita goal when the child's place is
taken, a housing goal when the move-out case completes. A goal linked to a fact that
never comes stays open and is on the overdue worklist. Bad input (an unknown resident, a
link to an unknown fact type, a review of a closed plan, another site's social worker
acting or taking the plan over) gets its exact error and changes nothing."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from contracts import Actor, ErrorReply, utcnow
from contracts import education_commands as e
from contracts import housing_commands as h
from contracts import subjects as subj
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from education.plugin import spec as education_spec
from housing.plugin import spec as housing_spec
from im_cli.testing import eventually
from im_runtime.discovery import gather
from im_runtime.service import ServiceRuntime
from plans import contracts as c
from plans.plugin import spec as plans_spec

pytestmark = [pytest.mark.flow, pytest.mark.timeout(300)]
ADMIN = Actor(subject="admin-1", role="city_admin")
SPECS = {"housing": housing_spec, "education": education_spec, "plans": plans_spec}
TODAY = utcnow().date()


@pytest.fixture(scope="module")
def ids() -> dict[str, str]:
    import uuid

    tag = uuid.uuid4().hex[:8]
    return {"site": f"s-{tag}", "other": f"s2-{tag}", "course": f"ik-b1-{tag}"}


@pytest.fixture
async def city(settings):
    runtimes = [ServiceRuntime(spec, settings) for spec in SPECS.values()]
    for rt in runtimes:
        await rt.start()
    yield
    for rt in runtimes:
        await rt.stop()


@pytest.fixture
def call(nc):
    async def send(service: str, name: str, command: Any) -> Any:
        route = next(r for r in SPECS[service].commands if r.name == name)
        body = command if isinstance(command, bytes) else msgspec.json.encode(command)
        msg = await nc.request(subj.command(service, name), body, timeout=20)
        return msgspec.json.decode(msg.data, type=route.reply | ErrorReply)
    return send


def ok(reply: Any) -> Any:
    assert not isinstance(reply, ErrorReply), reply
    return reply


async def section(nc: Any, name: str, query: Any) -> Any:
    for raw in await gather(nc, subj.query(name), msgspec.json.encode(query), 2.0, expect=3):
        body = msgspec.json.decode(raw)
        if body.get("service") == "plans":
            return body["section"]
    return None


async def household(call: Any, site: str, members: int) -> h.HouseholdView:
    return ok(await call("housing", "register_household", h.RegisterHousehold(
        actor=ADMIN, site_id=site, on=date(2026, 2, 2), members=[h.HouseholdMember(
            given_name=f"Amal{i}", family_name="Haddad", birth_year=1990 if i < 1 else 2022,
            residence_status="recognised_refugee", arrival_date=date(2026, 2, 1))
            for i in range(members)])))


async def sites(call: Any, *site_ids: str) -> None:
    for sid in site_ids:
        ok(await call("housing", "register_site", h.RegisterSite(
            actor=ADMIN, site_id=sid, kind="shelter", name="Oststadtkrankenhaus",
            operator_id="op1", address="Podbielskistraße 1", district="List", capacity=80)))


async def create_plan(call: Any, command: c.CreatePlan) -> c.PlanView:
    """Plans learns of the household, and then of its site, from housing's events: until
    then it is unknown, or placed nowhere (a social worker is refused for site None)."""
    async def made() -> Any:
        reply = await call("plans", "create_plan", command)
        waiting = isinstance(reply, ErrorReply) and (
            reply.code == "not_found"
            or (reply.code == "forbidden" and not (reply.details or {}).get("site_id")))
        return None if waiting else reply
    return ok(await eventually(made, timeout=30, interval=0.2))


async def goal_status(call: Any, plan_id: str, index: int) -> tuple[str, str | None]:
    view = ok(await call("plans", "get_plan", c.GetPlan(actor=ADMIN, plan_id=plan_id)))
    goal = view.goals[index]
    return goal.status, goal.reached_by.type if goal.reached_by else None


async def test_a_plan_is_moved_forward_by_educations_and_housings_events(city, call, nc, ids):
    site, course = ids["site"], ids["course"]
    await sites(call, site)
    house = await household(call, site, 2)
    adult, child = house.resident_ids
    me = c.Responsible(party="social_worker", id="sw-01")
    social_worker = Actor(subject="sw-01", role="social_worker", sites=(site,))
    last_week = TODAY - timedelta(days=7)
    plan = await create_plan(call, c.CreatePlan(
        actor=social_worker, household_id=house.household_id, next_review=last_week,
        consent=[c.ConsentIn(resident_id=adult, given=True, on=TODAY)], goals=[
            c.GoalIn(resident_id=adult, field="language", title="Deutsch B1", responsible=me,
                     links=[c.LinkIn(fact="language_course_completed", level="B1")]),
            c.GoalIn(resident_id=child, field="education", title="Kita-Platz",
                     responsible=c.Responsible(party="operator", id="op1"),
                     links=[c.LinkIn(fact="kita_place_taken")]),
            c.GoalIn(field="housing", title="Eigene Wohnung", responsible=me,
                     steps=[c.StepIn(title="Auszugsfall", responsible=me,
                                     link=c.LinkIn(fact="move_out_case_opened"))],
                     links=[c.LinkIn(fact="moved_out")]),
            c.GoalIn(resident_id=adult, field="neighbourhood", title="Tandem", responsible=me,
                     due=last_week, links=[c.LinkIn(fact="tandem_started")])]))
    assert plan.social_worker == "sw-01" and [g.status for g in plan.goals] == ["open"] * 4

    # education: a B1 course completed at B1
    ok(await call("education", "create_course", e.CreateCourse(
        actor=ADMIN, course_id=course, kind="integration_course", level="B1",
        title="Integrationskurs B1", provider="adult_education_centre", site_id=site,
        starts=date(2026, 9, 1), ends=date(2027, 1, 31), capacity=20, status="running")))
    enrolment = ok(await call("education", "enrol", e.Enrol(actor=ADMIN, course_id=course,
                                                            resident_id=adult)))
    ok(await call("education", "complete_enrolment", e.CompleteEnrolment(
        actor=ADMIN, enrolment_id=enrolment.enrolment_id, passed=True, certificate_level="B1")))
    assert await eventually(lambda: _is(call, plan.plan_id, 0, (
        "reached", "im.education.enrolment_completed.v1")), timeout=30)

    # education: the child's Kita place taken
    access = ok(await call("education", "request_access", e.RequestAccess(
        actor=ADMIN, resident_id=child, parent_id=adult, kind="kita", district="List")))
    ok(await call("education", "offer_access_place", e.OfferAccessPlace(
        actor=ADMIN, request_id=access.request_id, institution="Kita Lister Platz",
        starts=TODAY + timedelta(days=30))))
    ok(await call("education", "conclude_access", e.ConcludeAccess(
        actor=ADMIN, request_id=access.request_id, outcome="placed")))
    assert await eventually(lambda: _is(call, plan.plan_id, 1, (
        "reached", "im.education.access_request_placed.v1")), timeout=30)

    # housing: the move-out case opened (a step), then completed (the goal)
    case = ok(await call("housing", "open_move_out_case", h.OpenMoveOutCase(
        actor=ADMIN, household_id=house.household_id)))

    async def step_done() -> bool:
        view = ok(await call("plans", "get_plan", c.GetPlan(actor=ADMIN, plan_id=plan.plan_id)))
        return view.goals[2].steps[0].done and view.goals[2].status == "in_progress"

    assert await eventually(step_done, timeout=30)
    for stage in ("searching", "offer_received", "viewing", "lease_signed", "moving",
                  "moved_out"):
        ok(await call("housing", "advance_move_out_case", h.AdvanceMoveOutCase(
            actor=ADMIN, case_id=case.case_id, stage=stage)))  # type: ignore[arg-type]
    assert await eventually(lambda: _is(call, plan.plan_id, 2, (
        "reached", "im.housing.move_out_case_advanced.v1")), timeout=30)

    # the tandem never came: open, and on the social worker's overdue list
    assert await goal_status(call, plan.plan_id, 3) == ("open", None)
    mine = ok(await call("plans", "get_worklist", c.GetWorklist(
        actor=social_worker, social_worker="sw-01")))
    assert [(g.goal_id, g.field) for g in mine.overdue_goals] == [
        (plan.goals[3].goal_id, "neighbourhood")]
    assert [r.plan_id for r in mine.reviews_due] == [plan.plan_id]

    resident = await section(nc, "resident_overview", GetResidentOverview(resident_id=adult))
    assert [g["status"] for g in resident["plan"]["goals"]] == ["reached", "reached", "open"]
    stats = await section(nc, "city_stats", GetCityStats())
    assert stats["goals_by_field"]["language"].get("reached", 0) >= 1
    # moved out: the household is on no site's list any more
    assert await eventually(lambda: _site_gone(nc, site), timeout=30)


async def _is(call: Any, plan_id: str, index: int, want: tuple[str, str | None]) -> bool:
    return await goal_status(call, plan_id, index) == want


async def _site_gone(nc: Any, site: str) -> bool:
    return not await section(nc, "site_overview", GetSiteOverview(site_id=site))


async def test_bad_input_gets_its_exact_error_and_changes_nothing(city, call, ids):
    site, other = ids["site"] + "b", ids["other"]
    await sites(call, site, other)
    house = await household(call, site, 1)
    stranger = (await household(call, other, 1)).resident_ids[0]
    me = c.Responsible(party="social_worker")
    plan = await create_plan(call, c.CreatePlan(actor=ADMIN, household_id=house.household_id))

    async def unchanged() -> c.PlanView:
        return ok(await call("plans", "get_plan", c.GetPlan(actor=ADMIN, plan_id=plan.plan_id)))

    before = await unchanged()
    reply = await call("plans", "add_goal", c.AddGoal(actor=ADMIN, plan_id=plan.plan_id,
                                                      goal=c.GoalIn(
        resident_id=stranger, field="language", title="Deutsch", responsible=me)))
    assert (reply.code, reply.message) == (
        "not_found", f"no resident {stranger!r} in household {house.household_id}")
    raw = msgspec.json.encode({"actor": {"subject": "admin-1", "role": "city_admin"},
                               "goal_id": f"{plan.plan_id}-g1",
                               "link": {"fact": "lottery_won"}})
    reply = await call("plans", "link_goal", raw)
    assert (reply.code, reply.message) == (
        "bad_request", "invalid link_goal: Invalid enum value 'lottery_won' - at `$.link.fact`")
    elsewhere = Actor(subject="sw-07", role="social_worker", sites=(other,))
    reply = await call("plans", "record_review", c.RecordReview(
        actor=elsewhere, plan_id=plan.plan_id, on=TODAY, outcome="on_track"))
    assert (reply.code, reply.message) == (
        "forbidden", f"social worker sw-07 is not assigned to site {site} and may not review "
                     f"plans")
    # nor is the plan handed to another site's social worker (deployed there by housing)
    staff = f"sw-{other}"
    ok(await call("housing", "assign_staff", h.AssignStaff(
        actor=ADMIN, staff_id=staff, name="Jana Kowalski", site_ids=[other])))

    async def deployed() -> bool:
        listed = ok(await call("plans", "list_social_workers", c.ListSocialWorkers(
            actor=ADMIN, site_id=other)))
        return listed.social_workers == [staff]

    assert await eventually(deployed, timeout=30)
    reply = await call("plans", "hand_over_plan", c.HandOverPlan(
        actor=ADMIN, plan_id=plan.plan_id, social_worker=staff))
    assert (reply.code, reply.message) == (
        "bad_request", f"social worker {staff} is not deployed to site {site}, where the "
                       f"household lives")
    assert await unchanged() == before

    ok(await call("plans", "close_plan", c.ClosePlan(actor=ADMIN, plan_id=plan.plan_id,
                                                     reason="declined")))
    closed = await unchanged()
    reply = await call("plans", "record_review", c.RecordReview(
        actor=ADMIN, plan_id=plan.plan_id, on=TODAY, outcome="on_track"))
    assert (reply.code, reply.message) == ("conflict", f"plan {plan.plan_id} is closed")
    assert await unchanged() == closed
