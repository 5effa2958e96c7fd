"""Plans and employment with the real servers: a work goal's step is done when the
resident joins the programme's phase, and the goal is reached when employment records a
job placement, with no command to plans."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import Actor, ErrorReply
from contracts import employment_commands as m
from contracts import housing_commands as h
from contracts import subjects as subj
from employment.plugin import spec as employment_spec
from housing.plugin import spec as housing_spec
from im_cli.testing import eventually
from im_runtime.service import ServiceRuntime
from plans import contracts as c
from plans.plugin import spec as plans_spec

pytestmark = [pytest.mark.flow, pytest.mark.timeout(300)]
ADMIN = Actor(subject="admin-1", role="city_admin")
SPECS = {"housing": housing_spec, "employment": employment_spec, "plans": plans_spec}


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
        msg = await nc.request(subj.command(service, name), msgspec.json.encode(command),
                               timeout=20)
        reply = msgspec.json.decode(msg.data, type=route.reply | ErrorReply)
        return reply
    return send


def ok(reply: Any) -> Any:
    assert not isinstance(reply, ErrorReply), reply
    return reply


async def until_known(send: Any) -> Any:
    """A command that names a resident waits until the service learned of them."""
    async def sent() -> Any:
        reply = await send()
        return None if isinstance(reply, ErrorReply) and reply.code == "not_found" else reply
    return ok(await eventually(sent, timeout=30, interval=0.2))


async def test_a_job_placement_reaches_the_work_goal(city, call, test_id):
    site, prog = f"s-{test_id}", f"p-{test_id}"
    ok(await call("housing", "register_site", h.RegisterSite(
        actor=ADMIN, site_id=site, kind="shelter", name="Schulzentrum Ahlem", operator_id="op1",
        address="Heisterbergallee 8", district="Ahlem", capacity=50)))
    house = ok(await call("housing", "register_household", h.RegisterHousehold(
        actor=ADMIN, site_id=site, on=date(2026, 2, 2), members=[h.HouseholdMember(
            given_name="Yonas", family_name="Tesfaye", birth_year=1994,
            residence_status="recognised_refugee", arrival_date=date(2026, 2, 1))])))
    (rid,) = house.resident_ids
    me = c.Responsible(party="social_worker")
    plan = await until_known(lambda: call("plans", "create_plan", c.CreatePlan(
        actor=ADMIN, household_id=house.household_id, goals=[c.GoalIn(
            resident_id=rid, field="work", title="Arbeit", responsible=me,
            steps=[c.StepIn(title="Phase 1", responsible=me,
                            link=c.LinkIn(fact="programme_joined"))],
            links=[c.LinkIn(fact="placement", placement_kind="job")])])))
    ok(await call("employment", "create_programme", m.CreateProgramme(
        actor=ADMIN, programme_id=prog, name="Arbeit und Sprache", providers=["pro-beruf"],
        allowed_statuses=["recognised_refugee"], language_course_required=False)))
    ok(await call("employment", "add_phase", m.AddPhase(
        actor=ADMIN, programme_id=prog, phase=1, starts=date(2026, 9, 1),
        ends=date(2027, 2, 28), capacity=30, status="open")))
    joined = await until_known(lambda: call("employment", "register_participant",
                                            m.RegisterParticipant(actor=ADMIN,
                                                                  programme_id=prog, phase=1,
                                                                  resident_id=rid)))
    if joined.state != "active":
        ok(await call("employment", "activate_participant", m.ActivateParticipant(
            actor=ADMIN, participation_id=joined.participation_id)))

    async def goal() -> c.GoalView:
        view = ok(await call("plans", "get_plan", c.GetPlan(actor=ADMIN, plan_id=plan.plan_id)))
        return view.goals[0]  # type: ignore[no-any-return]

    async def started() -> bool:
        g = await goal()
        return g.status == "in_progress" and g.steps[0].done

    assert await eventually(started, timeout=30)
    ok(await call("employment", "record_placement", m.RecordPlacement(
        actor=ADMIN, participation_id=joined.participation_id, kind="job",
        sector="Pflege", starts=date(2026, 12, 1), hours=30)))

    async def reached() -> bool:
        g = await goal()
        return g.status == "reached" and g.reached_by is not None \
            and g.reached_by.type == "im.employment.placement_recorded.v1"

    assert await eventually(reached, timeout=30)
