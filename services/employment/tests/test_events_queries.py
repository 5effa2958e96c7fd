"""Employment's events on JetStream and its answers to the scatter-gather queries, with the
real servers; housing's and counselling's events are published as those services do."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from contracts import Actor, ErrorReply
from contracts import employment_commands as c
from contracts.counselling import ReferralRequested
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from im_cli.testing import eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("employment")]
ADMIN = Actor(subject="admin-1", role="city_admin")
ON = date(2026, 9, 1)


def ok(reply: Any) -> Any:
    assert not isinstance(reply, ErrorReply), reply
    return reply


async def test_every_state_change_emits_its_event_and_the_queries_answer(
        call, ask, events, resident, publish, settled, test_id):
    prog, site = f"p-{test_id}", f"s-{test_id}"
    ok(await call("create_programme", c.CreateProgramme(
        actor=ADMIN, programme_id=prog, name="Arbeit", providers=["vhs"],
        allowed_statuses=["recognised_refugee"])))
    for n in (1, 2):
        ok(await call("add_phase", c.AddPhase(actor=ADMIN, programme_id=prog, phase=n,
                                              starts=ON, ends=ON, capacity=1)))
    ok(await call("change_phase", c.ChangePhase(actor=ADMIN, programme_id=prog, phase=1,
                                                status="running")))
    a, b, x = [await resident(f"{k}-{test_id}", site) for k in "abx"]
    pa = ok(await call("register_participant", c.RegisterParticipant(
        actor=ADMIN, programme_id=prog, phase=1, resident_id=a)))
    pb = ok(await call("register_participant", c.RegisterParticipant(
        actor=ADMIN, programme_id=prog, phase=1, resident_id=b)))
    ok(await call("move_to_next_phase", c.MoveToNextPhase(actor=ADMIN,
                                                          participation_id=pa.participation_id)))
    for pid in (pa.participation_id, pb.participation_id):
        ok(await call("activate_participant", c.ActivateParticipant(actor=ADMIN,
                                                                    participation_id=pid)))
    ok(await call("record_placement", c.RecordPlacement(
        actor=ADMIN, participation_id=pa.participation_id, kind="job", sector="care",
        starts=ON, hours=30)))
    ok(await call("drop_out_participant", c.DropOutParticipant(
        actor=ADMIN, participation_id=pb.participation_id, reason="health")))
    await publish("counselling", ReferralRequested(
        referral_id=f"ref-{test_id}", resident_id=x, operator_id="op1", site_id=site,
        topic="work_qualification", requested_on=ON))
    await eventually(lambda: settled("counselling"))
    (need,) = await eventually(lambda: events.of("coaching_need_opened", x))
    ok(await call("record_coaching", c.RecordCoaching(
        actor=ADMIN, resident_id=x, topic="applications", on=ON,
        need_id=need["data"]["need_id"])))

    expected = {"programme_created": 1, "phase_added": 2, "phase_changed": 1,
                "participant_registered": 2, "participant_promoted": 1,
                "participant_moved_to_next_phase": 1, "participant_activated": 2,
                "placement_recorded": 1, "participant_completed": 1,
                "participant_dropped_out": 1, "coaching_need_opened": 1,
                "referral_accepted": 1, "coaching_recorded": 1}

    def counts() -> dict[str, int]:
        return {k: len(events.of(k, prog, a, b, x)) for k in expected}

    await eventually(lambda: counts() == expected)
    for subject, event, _ in events.seen:
        # its own events, and its referral answers on the shared subjects
        assert subject.startswith(("im.evt.employment.", "im.evt.referrals."))
        assert event["source"] == "employment" and "type" not in event["data"]
        if event["subject"]:
            assert subject.endswith("." + event["subject"])

    mine = await ask(GetResidentOverview(resident_id=a))
    assert [(p["phase"], p["state"]) for p in mine["participations"]] == [(2, "completed")]
    assert mine["placements"][0]["sector"] == "care"
    coached = await ask(GetResidentOverview(resident_id=x))
    assert coached["coaching"][0]["topic"] == "applications"
    assert coached["coaching_needs"][0]["open"] is False
    assert await ask(GetResidentOverview(resident_id=f"nobody-{test_id}")) == {}
    here = await ask(GetSiteOverview(site_id=site))
    assert (here["participants"], here["open_coaching_needs"]) == (0, 0)
    stats = await ask(GetCityStats())
    (row,) = [p for p in stats["programmes"] if p["programme_id"] == prog]
    assert [(r["phase"], r["capacity"], r["registered"], r["active"], r["completed"],
             r["placed"], r["dropped_out"]) for r in row["phases"]] \
        == [(1, 1, 0, 0, 0, 0, 1), (2, 1, 0, 0, 1, 1, 0)]


async def test_site_overview_lists_the_participants_living_there(
        call, ask, resident, test_id):
    prog, site = f"p-{test_id}", f"s-{test_id}"
    ok(await call("create_programme", c.CreateProgramme(
        actor=ADMIN, programme_id=prog, name="Arbeit", providers=["vhs"],
        allowed_statuses=["recognised_refugee"], language_course_required=True)))
    ok(await call("add_phase", c.AddPhase(actor=ADMIN, programme_id=prog, phase=1,
                                          starts=ON, ends=ON, capacity=5)))
    rid = await resident(f"r-{test_id}", site)
    ok(await call("register_participant", c.RegisterParticipant(
        actor=ADMIN, programme_id=prog, phase=1, resident_id=rid)))
    here = await ask(GetSiteOverview(site_id=site))
    assert here["participants"] == 1
    assert here["by_state"] == {"waiting_for_language_course": 1}
    assert here["participations"][0]["resident_id"] == rid
    assert await ask(GetSiteOverview(site_id=f"empty-{test_id}")) == {}
