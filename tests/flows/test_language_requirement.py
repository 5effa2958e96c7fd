"""Across three services, nothing but events between them: housing registers and places
a resident; employment registers them for a phase that requires a language course, so
they wait; the education service enrols them in a course and employment activates the
participation with no further command; a withdrawal from the course flags it."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import Actor, ErrorReply
from contracts import education_commands as e
from contracts import employment_commands as c
from contracts import housing_commands as h
from contracts import subjects as subj
from contracts.queries import GetResidentOverview
from education.plugin import spec as education_spec
from employment.plugin import spec as employment_spec
from housing.plugin import spec as housing_spec
from im_cli.testing import eventually
from im_runtime.service import ServiceRuntime

pytestmark = pytest.mark.flow
ADMIN = Actor(subject="admin-1", role="city_admin")
SPECS = {"housing": housing_spec, "education": education_spec, "employment": employment_spec}


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
                               timeout=10)
        return msgspec.json.decode(msg.data, type=route.reply | ErrorReply)
    return send


async def employment_view(call: Any, nc: Any, rid: str) -> tuple[str, list[str]] | None:
    from im_runtime.discovery import gather

    for raw in await gather(nc, subj.query("resident_overview"),
                            msgspec.json.encode(GetResidentOverview(resident_id=rid)), 1.0,
                            expect=3):
        body = msgspec.json.decode(raw)
        if body.get("service") == "employment" and body["section"].get("participations"):
            (p,) = body["section"]["participations"]
            return p["state"], p["flags"]
    return None


def ok(reply: Any) -> Any:
    assert not isinstance(reply, ErrorReply), reply
    return reply


async def test_an_enrolment_by_education_activates_and_a_withdrawal_flags(city, call, nc,
                                                                           test_id):
    site, prog, course = f"s-{test_id}", f"p-{test_id}", f"c-{test_id}"
    ok(await call("housing", "register_site", h.RegisterSite(
        actor=ADMIN, site_id=site, kind="shelter", name="Schulzentrum Ahlem", operator_id="op1",
        address="Heisterbergallee 8", district="Ahlem", capacity=50)))
    person = ok(await call("housing", "register_resident", h.RegisterResident(
        actor=ADMIN, given_name="Yonas", family_name="Tesfaye", birth_year=1994,
        residence_status="recognised_refugee", arrival_date=date(2026, 2, 1))))
    ok(await call("housing", "place_household", h.PlaceHousehold(
        actor=ADMIN, household_id=person.household_id, site_id=site, on=date(2026, 2, 2))))
    rid = person.resident_id
    ok(await call("employment", "create_programme", c.CreateProgramme(
        actor=ADMIN, programme_id=prog, name="Arbeit und Sprache", providers=["vhs"],
        allowed_statuses=["recognised_refugee"], language_course_required=True)))
    ok(await call("employment", "add_phase", c.AddPhase(
        actor=ADMIN, programme_id=prog, phase=1, starts=date(2026, 9, 1),
        ends=date(2027, 2, 28), capacity=30, status="open")))

    async def registered() -> Any:  # housing's events reach employment asynchronously
        reply = await call("employment", "register_participant", c.RegisterParticipant(
            actor=ADMIN, programme_id=prog, phase=1, resident_id=rid))
        return None if isinstance(reply, ErrorReply) and reply.code == "not_found" else reply

    assert ok(await eventually(registered)).state == "waiting_for_language_course"

    ok(await call("education", "create_course", e.CreateCourse(
        actor=ADMIN, course_id=course, kind="integration_course", level="A1",
        title="Integrationskurs A1", provider="adult_education_centre", site_id=site,
        starts=date(2026, 9, 1), ends=date(2027, 1, 31), capacity=20, status="running")))
    enrolment = ok(await call("education", "enrol", e.Enrol(actor=ADMIN, course_id=course,
                                                            resident_id=rid)))
    assert enrolment.state == "confirmed"
    assert await eventually(lambda: _is(call, nc, rid, ("active", [])))

    ok(await call("education", "withdraw", e.Withdraw(
        actor=ADMIN, enrolment_id=enrolment.enrolment_id, reason="moved to another course")))
    assert await eventually(
        lambda: _is(call, nc, rid, ("active", ["language_course_withdrawn"])))


async def _is(call: Any, nc: Any, rid: str, want: tuple[str, list[str]]) -> bool:
    return await employment_view(call, nc, rid) == want
