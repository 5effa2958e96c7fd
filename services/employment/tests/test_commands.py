"""Every employment command over the bus with the real servers: the happy path, and bad
input, unknown ids, conflicts and forbidden roles with the exact error code."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import MAX_MESSAGE_BYTES, Actor, ErrorReply
from contracts import employment_commands as c

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("employment")]

ADMIN = Actor(subject="admin-1", role="city_admin")
ADMIN_JSON = {"subject": "admin-1", "role": "city_admin"}
ON = date(2026, 9, 1)


def ok(reply: Any, kind: type = object) -> Any:
    assert not isinstance(reply, ErrorReply), reply
    assert isinstance(reply, kind), reply
    return reply


def err(reply: Any, code: str) -> ErrorReply:
    assert isinstance(reply, ErrorReply), reply
    assert reply.code == code, reply
    assert reply.message
    return reply


@dataclass
class World:
    programme: str  # phases 1 (capacity 2) and 2 (capacity 2); no course required
    site: str
    rids: list[str]  # four eligible residents at `site`, none registered yet


@pytest.fixture
async def world(call, resident, test_id) -> World:
    programme, site = f"p-{test_id}", f"s-{test_id}"
    ok(await call("create_programme", c.CreateProgramme(
        actor=ADMIN, programme_id=programme, name="Arbeit und Sprache",
        providers=["vhs", "bbw"], allowed_statuses=["recognised_refugee", "tolerated"])),
        c.ProgrammeView)
    for n in (1, 2):
        ok(await call("add_phase", c.AddPhase(
            actor=ADMIN, programme_id=programme, phase=n, starts=date(2026, 3 * n, 1),
            ends=date(2026, 3 * n + 2, 28), capacity=2, status="open")))
    rids = [await resident(f"r{i}-{test_id}", site) for i in range(4)]
    return World(programme, site, rids)


async def register(call: Any, w: World, i: int, phase: int = 1) -> c.ParticipationView:
    return ok(await call("register_participant", c.RegisterParticipant(
        actor=ADMIN, programme_id=w.programme, phase=phase, resident_id=w.rids[i])),
        c.ParticipationView)


class TestHappyPaths:
    async def test_programme_phases_and_reading_them(self, call, world):
        view = ok(await call("change_phase", c.ChangePhase(
            actor=ADMIN, programme_id=world.programme, phase=1, capacity=3,
            status="running")), c.ProgrammeView)
        assert [(p.phase, p.capacity, p.phase_status) for p in view.phases] \
            == [(1, 3, "running"), (2, 2, "open")]
        read = ok(await call("get_programme", c.GetProgramme(
            actor=Actor(subject="v", role="provider", provider="vhs"),
            programme_id=world.programme)))
        assert read == view and read.providers == ["bbw", "vhs"]

    async def test_a_participant_from_registration_to_placement(self, call, world):
        first = await register(call, world, 0)
        assert first.state == "registered"
        active = ok(await call("activate_participant", c.ActivateParticipant(
            actor=ADMIN, participation_id=first.participation_id)))
        assert active.state == "active"
        placed = ok(await call("record_placement", c.RecordPlacement(
            actor=Actor(subject="b", role="provider", provider="bbw"),
            participation_id=first.participation_id, kind="internship", sector="care",
            starts=ON, hours=20)))
        assert placed.state == "completed" and placed.placement_id

    async def test_waitlist_drop_out_move_and_complete(self, call, world):
        a, b = await register(call, world, 0), await register(call, world, 1)
        waiting = await register(call, world, 2)
        assert (waiting.state, waiting.position) == ("waitlisted", 1)
        dropped = ok(await call("drop_out_participant", c.DropOutParticipant(
            actor=ADMIN, participation_id=b.participation_id, reason="no_show")))
        assert (dropped.state, dropped.reason) == ("dropped_out", "no_show")
        moved = ok(await call("move_to_next_phase", c.MoveToNextPhase(
            actor=ADMIN, participation_id=waiting.participation_id)))
        assert (moved.phase, moved.state) == (2, "registered")
        ok(await call("activate_participant", c.ActivateParticipant(
            actor=ADMIN, participation_id=a.participation_id)))
        done = ok(await call("complete_participation", c.CompleteParticipation(
            actor=ADMIN, participation_id=a.participation_id)))
        assert done.state == "completed"

    async def test_a_phase_with_its_participants(self, call, world, resident, test_id):
        a, b = await register(call, world, 0), await register(call, world, 1)
        waiting = await register(call, world, 2)
        ok(await call("activate_participant", c.ActivateParticipant(
            actor=ADMIN, participation_id=b.participation_id)))
        vhs = Actor(subject="v", role="provider", provider="vhs")
        got = ok(await call("get_phase_participants", c.GetPhaseParticipants(
            actor=vhs, programme_id=world.programme, phase=1)), c.PhaseParticipants)
        assert (got.name, got.phase.taken, got.phase.waitlisted, got.total) == (
            "Arbeit und Sprache", 2, 1, 3)
        assert [(p.participation_id, p.state) for p in got.items] == [
            (b.participation_id, "active"), (a.participation_id, "registered"),
            (waiting.participation_id, "waitlisted")]
        # a social worker sees those of her sites only
        elsewhere = await resident(f"r9-{test_id}", f"t-{test_id}")
        ok(await call("register_participant", c.RegisterParticipant(
            actor=ADMIN, programme_id=world.programme, phase=1, resident_id=elsewhere)))
        worker = Actor(subject="sw", role="social_worker", sites=(world.site,))
        mine = ok(await call("get_phase_participants", c.GetPhaseParticipants(
            actor=worker, programme_id=world.programme, phase=1)))
        assert mine.total == 3 and elsewhere not in [p.resident_id for p in mine.items]
        for actor in (Actor(subject="o", role="provider", provider="caritas"),
                      Actor(subject="a", role="auditor"),
                      Actor(subject="o", role="operator", operator="op1")):
            reply = err(await call("get_phase_participants", c.GetPhaseParticipants(
                actor=actor, programme_id=world.programme, phase=1)), "forbidden")
            assert reply.details["role"] == actor.role
        err(await call("get_phase_participants", c.GetPhaseParticipants(
            actor=ADMIN, programme_id=world.programme, phase=9)), "not_found")

    async def test_coaching(self, call, world):
        worker = Actor(subject="sw", role="social_worker", sites=(world.site,))
        view = ok(await call("record_coaching", c.RecordCoaching(
            actor=worker, resident_id=world.rids[0], topic="recognition_of_qualifications",
            on=ON, summary="Anerkennung des Abschlusses als Elektriker beantragt")),
            c.CoachingView)
        assert (view.resident_id, view.open_needs) == (world.rids[0], 0)

    async def test_a_repeated_command_id_is_answered_once(self, call, world):
        cmd = c.RegisterParticipant(actor=ADMIN, programme_id=world.programme, phase=1,
                                    resident_id=world.rids[0])
        assert ok(await call("register_participant", cmd)) \
            == ok(await call("register_participant", cmd))


VALID: dict[str, dict[str, Any]] = {
    "create_programme": {"programme_id": "p1", "name": "n", "providers": ["vhs"],
                         "allowed_statuses": ["tolerated"]},
    "add_phase": {"programme_id": "p1", "phase": 1, "starts": "2026-01-01",
                  "ends": "2026-06-30", "capacity": 30},
    "change_phase": {"programme_id": "p1", "phase": 1, "capacity": 3},
    "get_programme": {"programme_id": "p1"},
    "get_phase_participants": {"programme_id": "p1", "phase": 1},
    "register_participant": {"programme_id": "p1", "phase": 1, "resident_id": "r1"},
    "activate_participant": {"participation_id": "pt1"},
    "complete_participation": {"participation_id": "pt1"},
    "drop_out_participant": {"participation_id": "pt1", "reason": "health"},
    "move_to_next_phase": {"participation_id": "pt1"},
    "record_coaching": {"resident_id": "r1", "topic": "applications", "on": "2026-01-01"},
    "record_placement": {"participation_id": "pt1", "kind": "job", "sector": "care",
                         "starts": "2026-01-01", "hours": 20},
}
COMMANDS = sorted(VALID)
OUT_OF_BOUNDS = [
    ("create_programme", "programme_id", "a.b"), ("create_programme", "providers", []),
    ("create_programme", "allowed_statuses", ["citizen"]), ("create_programme", "min_age", 13),
    ("create_programme", "min_age", 68), ("create_programme", "name", "n" * 201),
    ("add_phase", "phase", 0), ("add_phase", "phase", 51), ("add_phase", "capacity", -1),
    ("add_phase", "capacity", 5001), ("add_phase", "status", "finished"),
    ("add_phase", "starts", "2026-02-30"), ("change_phase", "status", "paused"),
    ("register_participant", "resident_id", "r*"), ("drop_out_participant", "reason", "bored"),
    ("record_coaching", "topic", "dancing"), ("record_coaching", "summary", "s" * 1001),
    ("record_placement", "kind", "volunteering"), ("record_placement", "hours", 0),
    ("record_placement", "hours", 49), ("record_placement", "sector", ""),
    ("get_phase_participants", "phase", 0), ("get_phase_participants", "limit", 501),
]


def body(command: str, /, **changes: Any) -> bytes:
    return msgspec.json.encode({**copy.deepcopy(VALID[command]), "actor": ADMIN_JSON,
                                **changes})


class TestBadInput:
    @pytest.mark.parametrize("name", COMMANDS)
    async def test_malformed_json(self, call, name):
        for raw in (b'{"programme_id": ', b"not json", b"", b"[1]", b"\xff\xfe"):
            assert name in err(await call(name, raw), "bad_request").message

    @pytest.mark.parametrize("name", COMMANDS)
    async def test_wrong_field_type(self, call, name):
        field, value = next(iter(VALID[name].items()))
        wrong = 12345 if isinstance(value, str) else "not a number"
        reply = err(await call(name, body(name, **{field: wrong})), "bad_request")
        assert f"$.{field}" in reply.message and "Expected" in reply.message

    @pytest.mark.parametrize("name", COMMANDS)
    async def test_missing_field(self, call, name):
        raw = {**VALID[name], "actor": ADMIN_JSON}
        field = next(iter(VALID[name]))
        del raw[field]
        reply = err(await call(name, msgspec.json.encode(raw)), "bad_request")
        assert f"missing required field `{field}`" in reply.message

    @pytest.mark.parametrize("name, field, value", OUT_OF_BOUNDS)
    async def test_values_out_of_bounds(self, call, name, field, value):
        assert f"$.{field}" in err(await call(name, body(name, **{field: value})),
                                   "bad_request").message

    @pytest.mark.parametrize("name", COMMANDS)
    async def test_oversize_body(self, call, name):
        raw = body(name, padding="x" * MAX_MESSAGE_BYTES)
        assert "exceeds" in err(await call(name, raw), "bad_request").message

    async def test_a_phase_that_ends_before_it_starts(self, call, world):
        err(await call("add_phase", c.AddPhase(
            actor=ADMIN, programme_id=world.programme, phase=3, starts=ON,
            ends=date(2026, 1, 1), capacity=3)), "bad_request")


class TestNotFound:
    async def test_unknown_ids(self, call, world):
        x = "nobody-here"
        pid = world.programme
        for name, cmd in [
            ("add_phase", c.AddPhase(actor=ADMIN, programme_id=x, phase=1, starts=ON, ends=ON,
                                     capacity=1)),
            ("change_phase", c.ChangePhase(actor=ADMIN, programme_id=x, phase=1)),
            ("get_programme", c.GetProgramme(actor=ADMIN, programme_id=x)),
            ("register_participant", c.RegisterParticipant(actor=ADMIN, programme_id=x,
                                                           phase=1, resident_id=world.rids[0])),
            ("register_participant", c.RegisterParticipant(actor=ADMIN, programme_id=pid,
                                                           phase=1, resident_id=x)),
            ("activate_participant", c.ActivateParticipant(actor=ADMIN, participation_id=x)),
            ("complete_participation", c.CompleteParticipation(actor=ADMIN,
                                                               participation_id=x)),
            ("drop_out_participant", c.DropOutParticipant(actor=ADMIN, participation_id=x,
                                                          reason="other")),
            ("move_to_next_phase", c.MoveToNextPhase(actor=ADMIN, participation_id=x)),
            ("record_coaching", c.RecordCoaching(actor=ADMIN, resident_id=x,
                                                 topic="applications", on=ON)),
            ("record_coaching", c.RecordCoaching(actor=ADMIN, resident_id=world.rids[0],
                                                 topic="applications", on=ON, need_id=x)),
            ("record_placement", c.RecordPlacement(actor=ADMIN, participation_id=x, kind="job",
                                                   sector="s", starts=ON, hours=1)),
        ]:
            reply = err(await call(name, cmd), "not_found")
            assert x in reply.message and x in reply.details.values(), (name, reply)
        reply = err(await call("change_phase", c.ChangePhase(
            actor=ADMIN, programme_id=pid, phase=9)), "not_found")
        assert reply.details == {"programme_id": pid, "phase": "9"}


class TestConflicts:
    async def test_conflicts(self, call, world, resident, test_id):
        err(await call("create_programme", c.CreateProgramme(
            actor=ADMIN, programme_id=world.programme, name="n", providers=["x"],
            allowed_statuses=["tolerated"])), "conflict")
        err(await call("add_phase", c.AddPhase(
            actor=ADMIN, programme_id=world.programme, phase=1, starts=ON, ends=ON,
            capacity=1)), "conflict")
        a, b = await register(call, world, 0), await register(call, world, 1)
        err(await call("register_participant", c.RegisterParticipant(
            actor=ADMIN, programme_id=world.programme, phase=2, resident_id=world.rids[0])),
            "conflict")
        err(await call("change_phase", c.ChangePhase(
            actor=ADMIN, programme_id=world.programme, phase=1, capacity=1)), "conflict")
        for name, cmd in [  # illegal transitions from registered
            ("complete_participation", c.CompleteParticipation(
                actor=ADMIN, participation_id=a.participation_id)),
            ("record_placement", c.RecordPlacement(
                actor=ADMIN, participation_id=a.participation_id, kind="job", sector="s",
                starts=ON, hours=1))]:
            assert err(await call(name, cmd), "conflict").details["state"] == "registered"
        ok(await call("register_participant", c.RegisterParticipant(
            actor=ADMIN, programme_id=world.programme, phase=2, resident_id=world.rids[2])))
        ok(await call("register_participant", c.RegisterParticipant(
            actor=ADMIN, programme_id=world.programme, phase=2, resident_id=world.rids[3])))
        err(await call("move_to_next_phase", c.MoveToNextPhase(
            actor=ADMIN, participation_id=b.participation_id)), "conflict")  # phase 2 full
        young = await resident(f"young-{test_id}", world.site, birth_year=2014)
        reply = err(await call("register_participant", c.RegisterParticipant(
            actor=ADMIN, programme_id=world.programme, phase=2, resident_id=young)),
            "conflict")
        assert reply.details["rule"] == "min_age"
        ok(await call("change_phase", c.ChangePhase(
            actor=ADMIN, programme_id=world.programme, phase=1, status="closed")))
        err(await call("change_phase", c.ChangePhase(
            actor=ADMIN, programme_id=world.programme, phase=1, status="open")), "conflict")


class TestForbidden:
    @pytest.mark.parametrize("actor", [
        Actor(subject="p", role="provider", provider="elsewhere"),
        Actor(subject="a", role="auditor"),
        Actor(subject="o", role="operator", operator="op1"),
        Actor(subject="sw", role="social_worker", sites=("far-away",)),
    ], ids=["other-provider", "auditor", "operator", "social-worker-elsewhere"])
    async def test_roles_that_may_not_write(self, call, world, actor):
        pt = (await register(call, world, 0)).participation_id
        for name, cmd in [
            ("create_programme", c.CreateProgramme(actor=actor, programme_id="zz", name="n",
                                                   providers=["x"],
                                                   allowed_statuses=["tolerated"])),
            ("add_phase", c.AddPhase(actor=actor, programme_id=world.programme, phase=5,
                                     starts=ON, ends=ON, capacity=1)),
            ("change_phase", c.ChangePhase(actor=actor, programme_id=world.programme, phase=1,
                                           capacity=5)),
            ("register_participant", c.RegisterParticipant(
                actor=actor, programme_id=world.programme, phase=1, resident_id=world.rids[1])),
            ("activate_participant", c.ActivateParticipant(actor=actor, participation_id=pt)),
            ("complete_participation", c.CompleteParticipation(actor=actor,
                                                               participation_id=pt)),
            ("drop_out_participant", c.DropOutParticipant(actor=actor, participation_id=pt,
                                                          reason="other")),
            ("move_to_next_phase", c.MoveToNextPhase(actor=actor, participation_id=pt)),
            ("record_coaching", c.RecordCoaching(actor=actor, resident_id=world.rids[0],
                                                 topic="applications", on=ON)),
            ("record_placement", c.RecordPlacement(actor=actor, participation_id=pt,
                                                   kind="job", sector="s", starts=ON, hours=1)),
        ]:
            err(await call(name, cmd), "forbidden")
        if actor.role in ("operator", "auditor"):
            reply = await call("get_programme", c.GetProgramme(actor=actor,
                                                               programme_id=world.programme))
            if actor.role == "operator":
                err(reply, "forbidden")
            else:
                ok(reply)
