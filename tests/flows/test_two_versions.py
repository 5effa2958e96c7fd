"""Two versions of education side by side (an upgrade in progress): one instance emits
EnrolmentConfirmed v1, the other v2, both under the service name `education`, so they
share its queue groups and durable consumers. Employment accepts both versions: every
waiting participant is activated once, and no enrolment is handled twice."""

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
from education.plugin import spec as education_spec
from employment.plugin import spec as employment_spec
from housing.plugin import spec as housing_spec
from im_cli.testing import eventually, started
from im_runtime.service import ServiceRuntime

pytestmark = pytest.mark.flow
ADMIN = Actor(subject="admin-1", role="city_admin")
SPECS = {"housing": housing_spec, "employment": employment_spec}  # in this process
ROUTES = {(spec.name, r.name): r for spec in (*SPECS.values(), education_spec)
          for r in spec.commands}
PEOPLE = 20  # both instances get some: all 20 to one of two has odds of 1 in 2^19
V1, V2 = "im.education.enrolment_confirmed.v1", "im.education.enrolment_confirmed.v2"


@pytest.fixture
async def city(settings, spawn, nc):
    spawn("education", IM_EDUCATION_EVENT_VERSION="1")
    spawn("education", IM_EDUCATION_EVENT_VERSION="2")
    runtimes = [ServiceRuntime(spec, settings) for spec in SPECS.values()]
    for rt in runtimes:
        await rt.start()

    found = await started(nc, "education", 2)
    assert {i.version for i in found} == {"1.0.0", "2.0.0"}
    yield
    for rt in runtimes:
        await rt.stop()


@pytest.fixture
def call(nc):
    async def send(service: str, name: str, command: Any) -> Any:
        msg = await nc.request(subj.command(service, name), msgspec.json.encode(command),
                               timeout=10)
        return msgspec.json.decode(msg.data, type=ROUTES[service, name].reply | ErrorReply)
    return send


def ok(reply: Any) -> Any:
    assert not isinstance(reply, ErrorReply), reply
    return reply


async def retried(send: Any) -> Any:
    """Events reach the other services asynchronously: retry while they say not_found."""
    async def attempt() -> Any:
        reply = await send()
        return None if isinstance(reply, ErrorReply) and reply.code == "not_found" else reply
    return ok(await eventually(attempt, timeout=60))


async def test_v1_and_v2_side_by_side_share_the_work(city, call, nc, test_id):
    js = nc.jetstream()
    site, prog, course = f"s-{test_id}", f"p-{test_id}", f"c-{test_id}"
    ok(await call("housing", "register_site", h.RegisterSite(
        actor=ADMIN, site_id=site, kind="shelter", name="Schulzentrum Ahlem", operator_id="op1",
        address="Heisterbergallee 8", district="Ahlem", capacity=50)))
    rids = []
    for i in range(PEOPLE):
        person = ok(await call("housing", "register_resident", h.RegisterResident(
            actor=ADMIN, given_name=f"Person{i}", family_name="Tesfaye", birth_year=1980 + i,
            residence_status="recognised_refugee", arrival_date=date(2026, 2, 1))))
        ok(await call("housing", "place_household", h.PlaceHousehold(
            actor=ADMIN, household_id=person.household_id, site_id=site,
            on=date(2026, 2, 2))))
        rids.append(person.resident_id)

    ok(await call("employment", "create_programme", c.CreateProgramme(
        actor=ADMIN, programme_id=prog, name="Arbeit und Sprache", providers=["vhs"],
        allowed_statuses=["recognised_refugee"], language_course_required=True)))
    ok(await call("employment", "add_phase", c.AddPhase(
        actor=ADMIN, programme_id=prog, phase=1, starts=date(2026, 9, 1),
        ends=date(2027, 2, 28), capacity=30, status="open")))
    for rid in rids:
        waiting = await retried(lambda rid=rid: call(
            "employment", "register_participant", c.RegisterParticipant(
                actor=ADMIN, programme_id=prog, phase=1, resident_id=rid)))
        assert waiting.state == "waiting_for_language_course"

    ok(await call("education", "create_course", e.CreateCourse(
        actor=ADMIN, course_id=course, kind="integration_course", level="A1",
        title="Integrationskurs A1", provider="adult_education_centre", site_id=site,
        starts=date(2026, 9, 1), ends=date(2027, 1, 31), capacity=PEOPLE, status="running",
        sessions=[e.Session(weekday="mon", starts_at="09:00", minutes=240),
                  e.Session(weekday="thu", starts_at="09:00", minutes=240)])))
    for rid in rids:  # the enrol commands are split between the two instances
        enrolled = await retried(lambda rid=rid: call(
            "education", "enrol", e.Enrol(actor=ADMIN, course_id=course, resident_id=rid)))
        assert enrolled.state == "confirmed"

    # Each resident's enrolment was confirmed exactly once, in one version or the other.
    stream = subj.event_stream("education")
    confirmed = {rid: subj.event("education", "enrolment_confirmed", rid) for rid in rids}

    async def counts() -> dict[str, int]:
        info = await js.stream_info(stream, subjects_filter=subj.event(
            "education", "enrolment_confirmed") + ".*")
        have = info.state.subjects or {}
        return {rid: have.get(s, 0) for rid, s in confirmed.items()}

    assert await eventually(lambda: _all_one(counts()), timeout=60)
    types = {}
    for rid, s in confirmed.items():
        body = msgspec.json.decode((await js.get_last_msg(stream, s)).data)
        types[rid] = body["type"]
        if body["type"] == V2:
            assert body["data"]["hours_per_week"] == 8
    assert set(types.values()) == {V1, V2}, types

    # Employment activated every waiting participant, whichever version told it, once.
    activated = {rid: subj.event("employment", "participant_activated", rid) for rid in rids}

    async def activations() -> dict[str, int]:
        info = await js.stream_info(subj.event_stream("employment"), subjects_filter=subj.event(
            "employment", "participant_activated") + ".*")
        have = info.state.subjects or {}
        return {rid: have.get(s, 0) for rid, s in activated.items()}

    assert await eventually(lambda: _all_one(activations()), timeout=60)
    assert set((await counts()).values()) == {1}
    assert set((await activations()).values()) == {1}


async def _all_one(counts: Any) -> bool:
    return set((await counts).values()) == {1}
