"""Flows with the real servers: housing and employment run in-process; education's events
are published as education publishes them (its service is being built alongside). And the
seed's programme: 30 active in phase 1, 28 registered for phase 2."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import Actor, ErrorReply
from contracts import employment_commands as c
from contracts import housing_commands as h
from contracts import subjects as subj
from contracts.education import EnrolmentConfirmed, EnrolmentWithdrawn
from contracts.queries import GetCityStats, GetResidentOverview
from housing.plugin import spec as housing_spec
from im_cli.testing import eventually
from im_runtime.service import ServiceRuntime

pytestmark = pytest.mark.flow
ADMIN = Actor(subject="admin-1", role="city_admin")
ON = date(2026, 3, 2)


def ok(reply: Any) -> Any:
    assert not isinstance(reply, ErrorReply), reply
    return reply


@pytest.fixture
async def housing(settings):
    rt = ServiceRuntime(housing_spec, settings)
    await rt.start()
    yield rt
    await rt.stop()


@pytest.fixture
def housing_call(nc):
    async def send(name: str, command: Any) -> Any:
        route = next(r for r in housing_spec.commands if r.name == name)
        msg = await nc.request(subj.command("housing", name), msgspec.json.encode(command),
                               timeout=10)
        return msgspec.json.decode(msg.data, type=route.reply | ErrorReply)
    return send


async def state(ask: Any, rid: str) -> tuple[str, list[str]] | None:
    section = await ask(GetResidentOverview(resident_id=rid))
    if not section.get("participations"):
        return None
    (p,) = section["participations"]
    return p["state"], p["flags"]


async def test_an_enrolment_activates_a_waiting_participant_and_a_withdrawal_flags_it(
        employment, housing, housing_call, call, ask, events, publish, settled, test_id):
    site, prog = f"s-{test_id}", f"p-{test_id}"
    ok(await housing_call("register_site", h.RegisterSite(
        actor=ADMIN, site_id=site, kind="shelter", name="Oststadtkrankenhaus",
        operator_id="op1", address="Podbielskistraße 1", district="List", capacity=10)))
    person = ok(await housing_call("register_resident", h.RegisterResident(
        actor=ADMIN, given_name="Amal", family_name="Haddad", birth_year=1990,
        residence_status="recognised_refugee", arrival_date=date(2026, 1, 5))))
    ok(await housing_call("place_household", h.PlaceHousehold(
        actor=ADMIN, household_id=person.household_id, site_id=site, on=ON)))
    rid = person.resident_id
    ok(await call("create_programme", c.CreateProgramme(
        actor=ADMIN, programme_id=prog, name="Arbeit und Sprache", providers=["vhs"],
        allowed_statuses=["recognised_refugee"], language_course_required=True)))
    ok(await call("add_phase", c.AddPhase(actor=ADMIN, programme_id=prog, phase=1,
                                          starts=date(2026, 9, 1), ends=date(2027, 2, 28),
                                          capacity=30, status="open")))
    worker = Actor(subject="sw-1", role="social_worker", sites=(site,))

    async def registered() -> Any:  # housing's events reach employment asynchronously
        reply = await call("register_participant", c.RegisterParticipant(
            actor=worker, programme_id=prog, phase=1, resident_id=rid))
        return None if isinstance(reply, ErrorReply) and reply.code == "not_found" else reply

    view = ok(await eventually(registered))
    assert view.state == "waiting_for_language_course"

    enrolment = {"resident_id": rid, "enrolment_id": f"e-{test_id}", "course_id": "c1",
                 "course_kind": "integration_course", "site_id": site}
    await publish("education", EnrolmentConfirmed(**enrolment))
    assert await eventually(lambda: _is(ask, rid, ("active", [])))
    (activated,) = await eventually(lambda: events.of("participant_activated", rid))
    assert activated["data"]["automatic"] is True

    await publish("education", EnrolmentWithdrawn(**enrolment, reason="moved away"))
    assert await eventually(lambda: _is(ask, rid, ("active", ["language_course_withdrawn"])))
    (flagged,) = await eventually(lambda: events.of("participation_flagged", rid))
    assert flagged["data"]["participation_id"] == view.participation_id
    await eventually(lambda: settled("education"))
    await asyncio.sleep(0.2)
    assert len(events.of("participant_activated", rid)) == 1
    assert events.of("participant_dropped_out", rid) == []


async def _is(ask: Any, rid: str, want: tuple[str, list[str]]) -> bool:
    return await state(ask, rid) == want


async def test_the_seed_programme_30_active_in_phase_1_and_28_registered_for_phase_2(
        employment, call, ask, resident, test_id):
    prog, site = f"seed-{test_id}", f"s-{test_id}"
    ok(await call("create_programme", c.CreateProgramme(
        actor=ADMIN, programme_id=prog, name="Beschäftigungsprogramm",
        providers=["vhs-hannover", "bbw-hannover"],
        allowed_statuses=["recognised_refugee", "subsidiary_protection"])))
    for n, starts, ends in ((1, date(2026, 1, 5), date(2026, 6, 30)),
                            (2, date(2026, 7, 1), date(2026, 12, 18))):
        ok(await call("add_phase", c.AddPhase(actor=ADMIN, programme_id=prog, phase=n,
                                              starts=starts, ends=ends, capacity=30,
                                              status="running" if n == 1 else "open")))
    rids = [f"r{i}-{test_id}" for i in range(58)]
    await asyncio.gather(*(resident(rid, site) for rid in rids))

    async def register(rid: str, phase: int) -> c.ParticipationView:
        return ok(await call("register_participant", c.RegisterParticipant(
            actor=ADMIN, programme_id=prog, phase=phase, resident_id=rid)))

    first = await asyncio.gather(*(register(rid, 1) for rid in rids[:30]))
    activated = await asyncio.gather(*(call("activate_participant", c.ActivateParticipant(
        actor=ADMIN, participation_id=p.participation_id)) for p in first))
    assert all(ok(a).state == "active" for a in activated)
    await asyncio.gather(*(register(rid, 2) for rid in rids[30:]))

    stats = await ask(GetCityStats())
    (row,) = [p for p in stats["programmes"] if p["programme_id"] == prog]
    figures = {r["phase"]: {k: r[k] for k in ("capacity", "registered", "active", "completed",
                                              "placed")} for r in row["phases"]}
    assert figures == {
        1: {"capacity": 30, "registered": 0, "active": 30, "completed": 0, "placed": 0},
        2: {"capacity": 30, "registered": 28, "active": 0, "completed": 0, "placed": 0}}
