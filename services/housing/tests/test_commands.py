"""Every housing command over the bus with the real servers: the happy path, and bad
input, unknown ids, conflicts and unauthorised roles with the exact error code."""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import MAX_MESSAGE_BYTES, Ack, Actor, ErrorReply
from contracts import housing_commands as c
from housing import followups
from housing.plugin import spec
from im_cli.testing import with_prefix
from im_runtime.service import ServiceRuntime
from im_runtime.settings import Settings

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("housing")]

ADMIN = Actor(subject="admin-1", role="city_admin")
ADMIN_JSON = {"subject": "admin-1", "role": "city_admin"}
ON = date(2026, 3, 2)


@pytest.fixture(scope="module")
async def housing(servers):
    """One housing for the module (each test uses ids of its own): keeps the suite fast."""
    import uuid

    settings = Settings(nats_url=servers.nats_url, mongo_url=servers.mongo_url,
                        retry_backoff=0.05, max_deliver=3, log_format="text")
    rt = ServiceRuntime(spec, with_prefix(settings, f"m{uuid.uuid4().hex[:10]}_"))
    await rt.start()
    yield rt
    await rt.stop()


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
    shelter: str  # capacity 4, operator op1: the placed household of 2 lives here
    flat: str  # apartment, capacity 2, empty
    hh: str  # placed household of 2
    rids: list[str]
    loner_hh: str  # unplaced household of 1
    loner: str
    case_id: str  # the placed household's move-out case, stage offer_received
    offer_id: str


@pytest.fixture
async def world(housing, call, test_id) -> World:
    shelter, flat = f"sh-{test_id}", f"ap-{test_id}"
    ok(await call("register_site", c.RegisterSite(
        actor=ADMIN, site_id=shelter, kind="shelter", name="Oststadtkrankenhaus",
        operator_id="op1", address="Podbielskistraße 1", district="List", capacity=4)))
    ok(await call("register_site", c.RegisterSite(
        actor=ADMIN, site_id=flat, kind="apartment", name="Wohnung", address="Weg 3",
        district="Linden", capacity=2)))
    first = ok(await call("register_resident", c.RegisterResident(
        actor=ADMIN, given_name="Amal", family_name="Haddad", birth_year=1988,
        residence_status="asylum_pending", arrival_date=date(2026, 3, 1))))
    second = ok(await call("register_resident", c.RegisterResident(
        actor=ADMIN, household_id=first.household_id, given_name="Rami",
        family_name="Haddad", birth_year=2015, residence_status="asylum_pending",
        arrival_date=date(2026, 3, 1))))
    loner = ok(await call("register_resident", c.RegisterResident(
        actor=ADMIN, given_name="Omid", family_name="Karimi", birth_year=1990,
        residence_status="tolerated", arrival_date=date(2026, 4, 1))))
    ok(await call("place_household", c.PlaceHousehold(
        actor=ADMIN, household_id=first.household_id, site_id=shelter, on=ON)))
    case = ok(await call("open_move_out_case", c.OpenMoveOutCase(
        actor=ADMIN, household_id=first.household_id)))
    ok(await call("set_search_criteria", c.SetSearchCriteria(
        actor=ADMIN, case_id=case.case_id, household_size=2, rent_ceiling=700)))
    offered = ok(await call("record_offer", c.RecordOffer(
        actor=ADMIN, case_id=case.case_id, landlord="hanova", address="Weg 9", rooms=2,
        rent=650, available_from=date(2026, 6, 1))))
    return World(shelter, flat, first.household_id, [first.resident_id, second.resident_id],
                 loner.household_id, loner.resident_id, case.case_id, offered.offer_id)


# happy paths --------------------------------------------------------------------------

class TestHappyPaths:
    async def test_register_site_and_change_capacity_and_list_sites(self, call, test_id):
        site = f"s-{test_id}"
        view = ok(await call("register_site", c.RegisterSite(
            actor=ADMIN, site_id=site, kind="shelter", name="Schulzentrum Ahlem",
            operator_id="op7", address="Heisterbergallee 8", district=f"Ahlem{test_id}",
            capacity=120, group="west")), c.SiteView)
        assert (view.site_id, view.capacity, view.occupancy, view.group) == (site, 120, 0, "west")
        view = ok(await call("change_site_capacity", c.ChangeSiteCapacity(
            actor=ADMIN, site_id=site, capacity=150)), c.SiteView)
        assert view.capacity == 150
        page = ok(await call("list_sites", c.ListSites(actor=ADMIN, district=f"Ahlem{test_id}")),
                  c.SitePage)
        assert page.total == 1 and page.items[0].site_id == site
        # an operator sees its own shelters only
        mine = ok(await call("list_sites", c.ListSites(
            actor=Actor(subject="o", role="operator", operator="op7"),
            district=f"Ahlem{test_id}")))
        theirs = ok(await call("list_sites", c.ListSites(
            actor=Actor(subject="o", role="operator", operator="op8"),
            district=f"Ahlem{test_id}")))
        assert (mine.total, theirs.total) == (1, 0)

    async def test_residents_are_registered_read_listed_and_changed(self, call, world):
        record = ok(await call("get_resident", c.GetResident(
            actor=ADMIN, resident_id=world.rids[0])), c.ResidentRecord)
        assert (record.given_name, record.site_id) == ("Amal", world.shelter)
        changed = ok(await call("change_residence_status", c.ChangeResidenceStatus(
            actor=ADMIN, resident_id=world.rids[0], residence_status="recognised_refugee")))
        assert changed.residence_status == "recognised_refugee"
        page = ok(await call("list_residents", c.ListResidents(
            actor=ADMIN, site_id=world.shelter)), c.ResidentPage)
        assert sorted(r.resident_id for r in page.items) == sorted(world.rids)
        found = ok(await call("list_residents", c.ListResidents(
            actor=ADMIN, site_id=world.shelter, q="rami")))
        assert [r.resident_id for r in found.items] == [world.rids[1]]
        worker = Actor(subject="sw", role="social_worker", sites=(world.shelter,))
        assert ok(await call("list_residents", c.ListResidents(
            actor=worker, site_id=world.shelter))).total == 2

    async def test_register_resident_with_a_given_id(self, call, test_id):
        rid = f"r-{test_id}"
        record = ok(await call("register_resident", c.RegisterResident(
            actor=ADMIN, resident_id=rid, given_name="Lina", family_name="Nouri",
            birth_year=2001, languages=["fa", "de"], residence_status="other_permit",
            arrival_date=date(2025, 12, 1), phone="+49 511 1234")), c.ResidentRecord)
        assert (record.resident_id, record.languages, record.phone) \
            == (rid, ["fa", "de"], "+49 511 1234")
        assert record.household_id and record.site_id is None

    async def test_place_transfer_and_move_out(self, call, world):
        placed = ok(await call("place_household", c.PlaceHousehold(
            actor=ADMIN, household_id=world.loner_hh, site_id=world.shelter, on=ON)), c.Placed)
        assert (placed.kind, placed.occupancy, placed.resident_ids) \
            == ("placed", 3, [world.loner])
        moved = ok(await call("place_household", c.PlaceHousehold(
            actor=ADMIN, household_id=world.loner_hh, site_id=world.flat, on=ON)))
        assert (moved.kind, moved.occupancy) == ("transferred", 1)
        out = ok(await call("move_out_household", c.MoveOutHousehold(
            actor=ADMIN, household_id=world.loner_hh, reason="departed", on=ON)))
        assert (out.kind, out.site_id, out.occupancy) == ("moved_out", world.flat, 0)

    async def test_emergency_override(self, call, world):
        ok(await call("change_site_capacity", c.ChangeSiteCapacity(
            actor=ADMIN, site_id=world.shelter, capacity=2)))
        placed = ok(await call("place_household", c.PlaceHousehold(
            actor=ADMIN, household_id=world.loner_hh, site_id=world.shelter, on=ON,
            emergency_override=True, override_reason="burst pipe at Ahlem")))
        assert (placed.occupancy, placed.capacity) == (3, 2)

    async def test_assign_staff(self, call, world, test_id):
        ack = ok(await call("assign_staff", c.AssignStaff(
            actor=ADMIN, staff_id=f"st-{test_id}", name="Frau Meyer",
            site_ids=[world.shelter, world.flat])), Ack)
        assert ack.id == f"st-{test_id}"
        again = ok(await call("assign_staff", c.AssignStaff(
            actor=ADMIN, staff_id=f"st-{test_id}", name="Frau Meyer", site_ids=[world.flat])))
        assert again.id == f"st-{test_id}"
        mine = Actor(subject=f"st-{test_id}", role="social_worker")
        view = ok(await call("get_staff", c.GetStaff(actor=mine, staff_id=f"st-{test_id}")),
                  c.StaffView)
        assert (view.name, view.site_ids) == ("Frau Meyer", [world.flat])
        assert [(h.site_ids, h.by) for h in view.history] == [
            (sorted([world.shelter, world.flat]), "admin-1"), ([world.flat], "admin-1")]
        assert view.history[0].at <= view.history[1].at
        unknown = ok(await call("get_staff", c.GetStaff(actor=ADMIN, staff_id="st-none")))
        assert (unknown.name, unknown.site_ids) == (None, [])
        other = Actor(subject="st-other", role="social_worker")
        err(await call("get_staff", c.GetStaff(actor=other, staff_id=f"st-{test_id}")),
            "forbidden")
        for actor in (Actor(subject="o1", role="operator", operator="op1"),
                      Actor(subject="p1", role="provider", provider="vhs")):
            err(await call("get_staff", c.GetStaff(actor=actor, staff_id=f"st-{test_id}")),
                "forbidden")

    async def test_a_move_out_case_from_open_to_moved_out(self, call, world):
        view = ok(await call("record_viewing", c.RecordViewing(
            actor=ADMIN, case_id=world.case_id, offer_id=world.offer_id, on=ON,
            outcome="accepted")), c.CaseView)
        assert (view.stage, view.offer_id) == ("viewing", world.offer_id)
        for item in ("furniture", "address_registration", "utilities", "job_centre"):
            ok(await call("tick_moving_help", c.TickMovingHelp(
                actor=ADMIN, case_id=world.case_id, item=item)))
        paused = ok(await call("advance_move_out_case", c.AdvanceMoveOutCase(
            actor=ADMIN, case_id=world.case_id, stage="paused", reason="hospital stay")))
        assert paused.stage == "paused"
        for stage in ("viewing", "lease_signed", "moving", "moved_out"):
            view = ok(await call("advance_move_out_case", c.AdvanceMoveOutCase(
                actor=ADMIN, case_id=world.case_id, stage=stage)))
            assert view.stage == stage
        record = ok(await call("get_resident", c.GetResident(
            actor=ADMIN, resident_id=world.rids[0])))
        assert record.site_id is None

    async def test_a_repeated_command_id_is_answered_once(self, call, world):
        cmd = c.PlaceHousehold(actor=ADMIN, household_id=world.loner_hh, site_id=world.shelter,
                               on=ON)
        first = ok(await call("place_household", cmd))
        again = ok(await call("place_household", cmd))
        assert first == again and first.occupancy == 3


# bad input ----------------------------------------------------------------------------

VALID: dict[str, dict[str, Any]] = {
    "register_site": {"site_id": "s1", "kind": "apartment", "name": "n", "address": "a",
                      "district": "d", "capacity": 3},
    "change_site_capacity": {"site_id": "s1", "capacity": 3},
    "list_sites": {"kind": "shelter", "limit": 10},
    "register_resident": {"given_name": "g", "family_name": "f", "birth_year": 1990,
                          "residence_status": "tolerated", "arrival_date": "2026-01-01"},
    "change_residence_status": {"resident_id": "r1", "residence_status": "tolerated"},
    "get_resident": {"resident_id": "r1"},
    "list_residents": {"site_id": "s1", "limit": 10},
    "place_household": {"household_id": "h1", "site_id": "s1", "on": "2026-01-01"},
    "move_out_household": {"household_id": "h1", "reason": "own_flat", "on": "2026-01-01"},
    "assign_staff": {"staff_id": "st1", "name": "n", "site_ids": ["s1"]},
    "get_staff": {"staff_id": "st1"},
    "open_move_out_case": {"household_id": "h1"},
    "advance_move_out_case": {"case_id": "c1", "stage": "searching"},
    "set_search_criteria": {"case_id": "c1", "household_size": 2, "rent_ceiling": 600},
    "record_offer": {"case_id": "c1", "landlord": "l", "address": "a", "rooms": 2,
                     "rent": 500, "available_from": "2026-01-01"},
    "record_viewing": {"case_id": "c1", "offer_id": "o1", "on": "2026-01-01",
                       "outcome": "pending"},
    "tick_moving_help": {"case_id": "c1", "item": "furniture"},
    "get_move_out_case": {"case_id": "c1"},
    "list_move_out_cases": {"site_id": "s1", "limit": 10},
    "list_due_follow_ups": {"site_id": "s1", "limit": 10},
}
COMMANDS = sorted(VALID)
# (command, field, wrong-typed value) and (command, required field)
WRONG_TYPE = {name: next(iter(body.items())) for name, body in VALID.items()}
REQUIRED = {name: next(iter(body)) for name, body in VALID.items()
            if name not in ("list_sites", "list_residents", "list_move_out_cases",
                                "list_due_follow_ups")}
OUT_OF_BOUNDS = [
    ("register_site", "capacity", -1), ("register_site", "capacity", 5001),
    ("register_site", "site_id", "a.b"), ("register_site", "site_id", "a b"),
    ("register_site", "site_id", ""), ("register_site", "site_id", "x" * 65),
    ("register_site", "site_id", "s>"), ("register_site", "kind", "hotel"),
    ("register_site", "name", ""), ("register_site", "name", "n" * 201),
    ("change_site_capacity", "capacity", -1),
    ("register_resident", "residence_status", "refugee"),
    ("register_resident", "birth_year", 1800), ("register_resident", "languages", ["Arabic"]),
    ("register_resident", "resident_id", "r.1"), ("register_resident", "household_id", "h 1"),
    ("register_resident", "arrival_date", "2026-13-01"),
    ("register_resident", "phone", "0" * 41),
    ("change_residence_status", "residence_status", "citizen"),
    ("get_resident", "resident_id", "r*"),
    ("place_household", "override_reason", "no"), ("place_household", "on", "yesterday"),
    ("move_out_household", "reason", "eloped"),
    ("get_staff", "staff_id", "st 1"),
    ("assign_staff", "site_ids", ["ok", "not.ok"]), ("assign_staff", "site_ids", ["s"] * 51),
    ("advance_move_out_case", "stage", "done"), ("advance_move_out_case", "reason", "x"),
    ("set_search_criteria", "household_size", 0), ("set_search_criteria", "rent_ceiling", -5),
    ("set_search_criteria", "wbs", "maybe"),
    ("record_offer", "rooms", 0), ("record_offer", "rooms", 21), ("record_offer", "rent", -1),
    ("record_viewing", "outcome", "great"), ("tick_moving_help", "item", "piano"),
    ("list_sites", "limit", 0), ("list_sites", "limit", 501), ("list_sites", "offset", -1),
    ("list_residents", "q", "q" * 101),
    ("get_move_out_case", "case_id", "c 1"), ("list_move_out_cases", "stage", "done"),
    ("list_move_out_cases", "limit", 501), ("list_move_out_cases", "open", "yes"),
    ("list_move_out_cases", "district", ""), ("list_move_out_cases", "district", "d" * 201),
    ("list_due_follow_ups", "on", "tomorrow"), ("list_due_follow_ups", "district", ""),
    ("list_due_follow_ups", "site_id", "s 1"), ("list_due_follow_ups", "limit", 0),
]


def body(command: str, /, **changes: Any) -> bytes:
    out = {**copy.deepcopy(VALID[command]), "actor": ADMIN_JSON, **changes}
    return msgspec.json.encode(out)


def wrong(value: Any) -> Any:
    return 12345 if isinstance(value, str) else "not a number"


class TestBadInput:
    @pytest.mark.parametrize("name", COMMANDS)
    async def test_malformed_json(self, call, name):
        for raw in (b'{"site_id": ', b"not json at all", b"", b"[1, 2]", b'"just a string"',
                    b"\xff\xfe"):
            reply = err(await call(name, raw), "bad_request")
            assert name in reply.message

    @pytest.mark.parametrize("name", COMMANDS)
    async def test_wrong_field_type(self, call, name):
        field, value = WRONG_TYPE[name]
        reply = err(await call(name, body(name, **{field: wrong(value)})), "bad_request")
        assert f"$.{field}" in reply.message and "Expected" in reply.message

    @pytest.mark.parametrize("name", sorted(REQUIRED))
    async def test_missing_field(self, call, name):
        raw = msgspec.json.decode(body(name))
        del raw[REQUIRED[name]]
        reply = err(await call(name, msgspec.json.encode(raw)), "bad_request")
        assert f"missing required field `{REQUIRED[name]}`" in reply.message

    @pytest.mark.parametrize("name, field, value", OUT_OF_BOUNDS)
    async def test_values_out_of_bounds(self, call, name, field, value):
        reply = err(await call(name, body(name, **{field: value})), "bad_request")
        assert f"$.{field}" in reply.message

    async def test_an_unknown_actor_role(self, call):
        err(await call("list_sites", body("list_sites", actor={"subject": "x",
                                                               "role": "king"})),
            "bad_request")

    @pytest.mark.parametrize("name", COMMANDS)
    async def test_oversize_body(self, call, name):
        raw = body(name, padding="x" * MAX_MESSAGE_BYTES)
        assert len(raw) > MAX_MESSAGE_BYTES
        reply = err(await call(name, raw), "bad_request")
        assert "exceeds" in reply.message

    async def test_domain_refusals_are_bad_requests(self, call, world, test_id):
        err(await call("register_site", c.RegisterSite(
            actor=ADMIN, site_id=f"x-{test_id}", kind="shelter", name="no operator",
            address="a", district="d", capacity=3)), "bad_request")
        ok(await call("change_site_capacity", c.ChangeSiteCapacity(
            actor=ADMIN, site_id=world.flat, capacity=0)))
        err(await call("place_household", c.PlaceHousehold(
            actor=ADMIN, household_id=world.loner_hh, site_id=world.flat, on=ON,
            emergency_override=True)), "bad_request")
        err(await call("advance_move_out_case", c.AdvanceMoveOutCase(
            actor=ADMIN, case_id=world.case_id, stage="cancelled")), "bad_request")


# unknown ids --------------------------------------------------------------------------

class TestNotFound:
    async def test_unknown_ids(self, call, world):
        unknown = "nobody-here"
        cases = [
            ("change_site_capacity", c.ChangeSiteCapacity(actor=ADMIN, site_id=unknown,
                                                          capacity=3)),
            ("change_residence_status", c.ChangeResidenceStatus(
                actor=ADMIN, resident_id=unknown, residence_status="tolerated")),
            ("get_resident", c.GetResident(actor=ADMIN, resident_id=unknown)),
            ("place_household", c.PlaceHousehold(actor=ADMIN, household_id=unknown,
                                                 site_id=world.flat, on=ON)),
            ("place_household", c.PlaceHousehold(actor=ADMIN, household_id=world.loner_hh,
                                                 site_id=unknown, on=ON)),
            ("move_out_household", c.MoveOutHousehold(actor=ADMIN, household_id=unknown,
                                                      reason="own_flat", on=ON)),
            ("assign_staff", c.AssignStaff(actor=ADMIN, staff_id="st-x", name="n",
                                           site_ids=[world.flat, unknown])),
            ("open_move_out_case", c.OpenMoveOutCase(actor=ADMIN, household_id=unknown)),
            ("advance_move_out_case", c.AdvanceMoveOutCase(actor=ADMIN, case_id=unknown,
                                                           stage="searching")),
            ("set_search_criteria", c.SetSearchCriteria(actor=ADMIN, case_id=unknown,
                                                        household_size=1, rent_ceiling=1)),
            ("record_offer", c.RecordOffer(actor=ADMIN, case_id=unknown, landlord="l",
                                           address="a", rooms=1, rent=1, available_from=ON)),
            ("record_viewing", c.RecordViewing(actor=ADMIN, case_id=unknown, offer_id="o1",
                                               on=ON, outcome="pending")),
            ("record_viewing", c.RecordViewing(actor=ADMIN, case_id=world.case_id,
                                               offer_id=unknown, on=ON, outcome="pending")),
            ("tick_moving_help", c.TickMovingHelp(actor=ADMIN, case_id=unknown,
                                                  item="utilities")),
        ]
        for name, cmd in cases:
            reply = err(await call(name, cmd), "not_found")
            assert unknown in reply.message and unknown in reply.details.values(), (name, reply)


# conflicts ----------------------------------------------------------------------------

class TestConflicts:
    async def test_registering_twice(self, call, world):
        err(await call("register_site", c.RegisterSite(
            actor=ADMIN, site_id=world.flat, kind="apartment", name="n", address="a",
            district="d", capacity=1)), "conflict")
        err(await call("register_resident", c.RegisterResident(
            actor=ADMIN, resident_id=world.loner, given_name="g", family_name="f",
            birth_year=1990, residence_status="tolerated", arrival_date=ON)), "conflict")

    async def test_over_capacity(self, call, world):
        ok(await call("place_household", c.PlaceHousehold(
            actor=ADMIN, household_id=world.loner_hh, site_id=world.shelter, on=ON)))
        ok(await call("change_site_capacity", c.ChangeSiteCapacity(
            actor=ADMIN, site_id=world.flat, capacity=1)))
        full = err(await call("place_household", c.PlaceHousehold(
            actor=ADMIN, household_id=world.hh, site_id=world.flat, on=ON)), "conflict")
        assert full.details == {"site_id": world.flat, "capacity": "1", "occupancy": "0",
                                "needed": "2", "rule": "site_full"}
        err(await call("change_site_capacity", c.ChangeSiteCapacity(
            actor=ADMIN, site_id=world.shelter, capacity=2)), "conflict")
        ok(await call("change_site_capacity", c.ChangeSiteCapacity(
            actor=ADMIN, site_id=world.shelter, capacity=3)))
        # a new member of a household in a full site does not fit either
        err(await call("register_resident", c.RegisterResident(
            actor=ADMIN, household_id=world.hh, given_name="Baby", family_name="Haddad",
            birth_year=2026, residence_status="asylum_pending", arrival_date=ON)), "conflict")

    async def test_placing_and_moving_out_twice(self, call, world):
        err(await call("place_household", c.PlaceHousehold(
            actor=ADMIN, household_id=world.hh, site_id=world.shelter, on=ON)), "conflict")
        err(await call("move_out_household", c.MoveOutHousehold(
            actor=ADMIN, household_id=world.loner_hh, reason="own_flat", on=ON)), "conflict")

    async def test_illegal_transitions(self, call, world):
        for stage in ("opened", "moving", "moved_out", "lease_signed", "offer_received"):
            reply = err(await call("advance_move_out_case", c.AdvanceMoveOutCase(
                actor=ADMIN, case_id=world.case_id, stage=stage)), "conflict")
            assert reply.details["stage"] == "offer_received"
        ok(await call("advance_move_out_case", c.AdvanceMoveOutCase(
            actor=ADMIN, case_id=world.case_id, stage="paused", reason="on holiday")))
        reply = err(await call("advance_move_out_case", c.AdvanceMoveOutCase(
            actor=ADMIN, case_id=world.case_id, stage="viewing")), "conflict")
        assert reply.details["resumes_at"] == "offer_received"
        ok(await call("advance_move_out_case", c.AdvanceMoveOutCase(
            actor=ADMIN, case_id=world.case_id, stage="cancelled", reason="moved in with kin")))
        for name, cmd in [
            ("advance_move_out_case", c.AdvanceMoveOutCase(actor=ADMIN, case_id=world.case_id,
                                                           stage="searching")),
            ("set_search_criteria", c.SetSearchCriteria(actor=ADMIN, case_id=world.case_id,
                                                        household_size=1, rent_ceiling=1)),
            ("record_offer", c.RecordOffer(actor=ADMIN, case_id=world.case_id, landlord="l",
                                           address="a", rooms=1, rent=1, available_from=ON)),
            ("record_viewing", c.RecordViewing(actor=ADMIN, case_id=world.case_id,
                                               offer_id=world.offer_id, on=ON,
                                               outcome="pending")),
            ("tick_moving_help", c.TickMovingHelp(actor=ADMIN, case_id=world.case_id,
                                                  item="furniture")),
        ]:
            reply = err(await call(name, cmd), "conflict")
            assert "cancelled" in reply.message, name

    async def test_an_offer_before_the_search_started(self, call, world):
        opened = ok(await call("place_household", c.PlaceHousehold(
            actor=ADMIN, household_id=world.loner_hh, site_id=world.flat, on=ON)))
        assert opened.kind == "placed"
        case = ok(await call("open_move_out_case", c.OpenMoveOutCase(
            actor=ADMIN, household_id=world.loner_hh)))
        assert case.stage == "opened"
        err(await call("record_offer", c.RecordOffer(
            actor=ADMIN, case_id=case.case_id, landlord="l", address="a", rooms=1, rent=1,
            available_from=ON)), "conflict")


# unauthorised roles -------------------------------------------------------------------

def writes(w: World, actor: Actor) -> list[tuple[str, Any]]:
    return [
        ("register_site", c.RegisterSite(actor=actor, site_id="zz", kind="apartment",
                                          name="n", address="a", district="d", capacity=1)),
        ("change_site_capacity", c.ChangeSiteCapacity(actor=actor, site_id=w.shelter,
                                                      capacity=9)),
        ("register_resident", c.RegisterResident(
            actor=actor, given_name="g", family_name="f", birth_year=1990,
            residence_status="tolerated", arrival_date=ON)),
        ("change_residence_status", c.ChangeResidenceStatus(
            actor=actor, resident_id=w.rids[0], residence_status="tolerated")),
        ("place_household", c.PlaceHousehold(actor=actor, household_id=w.hh,
                                             site_id=w.flat, on=ON)),
        ("move_out_household", c.MoveOutHousehold(actor=actor, household_id=w.hh,
                                                   reason="own_flat", on=ON)),
        ("assign_staff", c.AssignStaff(actor=actor, staff_id="st", name="n",
                                       site_ids=[w.shelter])),
        ("open_move_out_case", c.OpenMoveOutCase(actor=actor, household_id=w.hh)),
        ("advance_move_out_case", c.AdvanceMoveOutCase(actor=actor, case_id=w.case_id,
                                                       stage="viewing")),
        ("set_search_criteria", c.SetSearchCriteria(actor=actor, case_id=w.case_id,
                                                    household_size=1, rent_ceiling=1)),
        ("record_offer", c.RecordOffer(actor=actor, case_id=w.case_id, landlord="l",
                                       address="a", rooms=1, rent=1, available_from=ON)),
        ("record_viewing", c.RecordViewing(actor=actor, case_id=w.case_id,
                                           offer_id=w.offer_id, on=ON, outcome="pending")),
        ("tick_moving_help", c.TickMovingHelp(actor=actor, case_id=w.case_id,
                                              item="furniture")),
    ]


class TestForbidden:
    @pytest.mark.parametrize("actor", [
        Actor(subject="p1", role="provider", provider="vhs"),
        Actor(subject="a1", role="auditor"),
        Actor(subject="o1", role="operator", operator="op1"),
    ], ids=["provider", "auditor", "operator"])
    async def test_roles_that_may_not_write(self, call, world, actor):
        for name, cmd in writes(world, actor):
            reply = err(await call(name, cmd), "forbidden")
            assert reply.details["role"] == actor.role, name

    async def test_a_social_worker_outside_their_sites(self, call, world):
        worker = Actor(subject="sw-9", role="social_worker", sites=(world.flat,))
        admin_only = {"register_site", "change_site_capacity", "assign_staff"}
        for name, cmd in writes(world, worker):
            if name == "register_resident":
                continue  # a new household, not at any site yet: allowed
            reply = err(await call(name, cmd), "forbidden")
            if name not in admin_only:
                assert "not assigned" in reply.message, name
        for name, cmd in [
            ("get_resident", c.GetResident(actor=worker, resident_id=world.rids[0])),
            ("list_residents", c.ListResidents(actor=worker, site_id=world.shelter)),
            ("list_residents", c.ListResidents(actor=worker)),
        ]:
            err(await call(name, cmd), "forbidden")

    async def test_reads_refused_to_providers(self, call, world):
        provider = Actor(subject="p1", role="provider", provider="vhs")
        for name, cmd in [
            ("get_resident", c.GetResident(actor=provider, resident_id=world.rids[0])),
            ("list_residents", c.ListResidents(actor=provider)),
            ("list_sites", c.ListSites(actor=provider)),
        ]:
            err(await call(name, cmd), "forbidden")
        other_operator = Actor(subject="o2", role="operator", operator="op2")
        err(await call("get_resident", c.GetResident(actor=other_operator,
                                                     resident_id=world.rids[0])), "forbidden")


class TestMoveOutCaseReads:
    """A case in full and the worklist of cases: the city's staff, a social worker for
    her sites only; nobody else."""

    async def test_a_case_in_full_and_in_the_worklist(self, call, world):
        ok(await call("record_viewing", c.RecordViewing(
            actor=ADMIN, case_id=world.case_id, offer_id=world.offer_id, on=ON,
            outcome="pending")))
        ok(await call("tick_moving_help", c.TickMovingHelp(
            actor=ADMIN, case_id=world.case_id, item="furniture")))
        worker = Actor(subject="sw-1", role="social_worker", sites=(world.shelter,))
        case = ok(await call("get_move_out_case", c.GetMoveOutCase(
            actor=worker, case_id=world.case_id)), c.CaseDetail)
        assert (case.resident_id, case.name, case.site_id, case.stage) == (
            world.rids[0], "Amal Haddad", world.shelter, "viewing")
        assert case.criteria == c.CaseCriteria(household_size=2, rent_ceiling=700)
        assert [(o.offer_id, o.landlord, o.rent) for o in case.offers] == [
            (world.offer_id, "hanova", 650)]
        assert [(v.offer_id, v.on, v.outcome) for v in case.viewings] == [
            (world.offer_id, ON, "pending")]
        assert case.help["furniture"] and not case.help["utilities"]
        assert [(h.from_stage, h.stage, h.by) for h in case.history] == [
            ("opened", "searching", "admin-1"), ("searching", "offer_received", "admin-1"),
            ("offer_received", "viewing", "admin-1")]
        assert case.opened_at is not None and case.opened_at <= case.history[0].at <= case.since

        page = ok(await call("list_move_out_cases", c.ListMoveOutCases(actor=worker)),
                  c.CasePage)
        assert [(x.case_id, x.name, x.offers, x.viewings) for x in page.items] == [
            (world.case_id, "Amal Haddad", 1, 1)]
        for flt, n in (({"stage": "viewing"}, 1), ({"stage": "searching"}, 0),
                       ({"site_id": world.shelter}, 1), ({"open": False}, 0)):
            page = ok(await call("list_move_out_cases", c.ListMoveOutCases(actor=worker, **flt)))
            assert page.total == len(page.items) == n, flt
        ok(await call("advance_move_out_case", c.AdvanceMoveOutCase(
            actor=ADMIN, case_id=world.case_id, stage="cancelled", reason="moved away")))
        closed = ok(await call("list_move_out_cases", c.ListMoveOutCases(actor=worker,
                                                                       open=False)))
        assert [(x.case_id, x.stage) for x in closed.items] == [(world.case_id, "cancelled")]

    async def test_who_may_read_cases(self, call, world):
        elsewhere = Actor(subject="sw-9", role="social_worker", sites=(world.flat,))
        err(await call("get_move_out_case", c.GetMoveOutCase(actor=elsewhere,
                                                             case_id=world.case_id)),
            "forbidden")
        err(await call("list_move_out_cases", c.ListMoveOutCases(actor=elsewhere,
                                                                 site_id=world.shelter)),
            "forbidden")
        mine = ok(await call("list_move_out_cases", c.ListMoveOutCases(actor=elsewhere)))
        assert world.case_id not in [x.case_id for x in mine.items]
        for actor in (Actor(subject="p1", role="provider", provider="vhs"),
                      Actor(subject="a1", role="auditor"),
                      Actor(subject="o1", role="operator", operator="op1")):
            for name, cmd in (("get_move_out_case", c.GetMoveOutCase(actor=actor,
                                                                     case_id=world.case_id)),
                              ("list_move_out_cases", c.ListMoveOutCases(actor=actor))):
                assert err(await call(name, cmd), "forbidden").details["role"] == actor.role
        err(await call("get_move_out_case", c.GetMoveOutCase(actor=ADMIN, case_id="nobody")),
            "not_found")


class TestDueFollowUps:
    """What a social worker must do next on her cases, and since when; filtered by site
    and district, never beyond her sites."""

    async def test_due_as_the_days_pass(self, call, world):
        worker = Actor(subject="sw-1", role="social_worker", sites=(world.shelter,))

        async def due(on: date, **flt: Any) -> dict[str, c.FollowUp]:
            page = ok(await call("list_due_follow_ups", c.ListDueFollowUps(
                actor=worker, on=on, **flt)), c.FollowUpPage)
            assert page.total == len(page.items)
            return {x.case_id: x for x in page.items}

        assert world.case_id not in await due(date(2026, 5, 31))  # the flat is not free yet
        offer = (await due(date(2026, 6, 1)))[world.case_id]
        assert (offer.due_on, offer.reasons, offer.offer_id, offer.name, offer.stage) == (
            date(2026, 6, 1), ["arrange_viewing"], world.offer_id, "Amal Haddad",
            "offer_received")
        ok(await call("record_viewing", c.RecordViewing(
            actor=worker, case_id=world.case_id, offer_id=world.offer_id,
            on=date(2026, 6, 3), outcome="pending")))
        assert world.case_id not in await due(date(2026, 6, 2))  # the viewing is arranged
        viewing = (await due(date(2026, 6, 4)))[world.case_id]
        assert (viewing.due_on, viewing.reasons) == (date(2026, 6, 3), ["viewing_outcome"])
        ok(await call("record_viewing", c.RecordViewing(
            actor=worker, case_id=world.case_id, offer_id=world.offer_id,
            on=date(2026, 6, 3), outcome="declined")))
        assert world.case_id not in await due(date(2026, 6, 4))  # its outcome is recorded
        later = date.today().toordinal() + followups.STALE_DAYS + 1
        stale = (await due(date.fromordinal(later)))[world.case_id]
        assert stale.reasons == ["next_step"]
        assert world.case_id in await due(date.fromordinal(later), district="List")
        assert world.case_id not in await due(date.fromordinal(later), district="Linden")
        ok(await call("advance_move_out_case", c.AdvanceMoveOutCase(
            actor=worker, case_id=world.case_id, stage="paused", reason="hospital stay")))
        assert world.case_id not in await due(date.fromordinal(later))  # paused on purpose

    async def test_district_filters_every_case_list(self, call, world):
        worker = Actor(subject="sw-1", role="social_worker", sites=(world.shelter,))
        for district, n in (("List", 1), ("Linden", 0), ("Nowhere", 0)):
            for site in (None, world.shelter):
                page = ok(await call("list_move_out_cases", c.ListMoveOutCases(
                    actor=worker, district=district, site_id=site)), c.CasePage)
                assert [x.case_id for x in page.items] == [world.case_id] * n, (district, site)
        city = ok(await call("list_move_out_cases", c.ListMoveOutCases(
            actor=ADMIN, district="List", limit=500)))
        assert world.case_id in [x.case_id for x in city.items]
        assert all(x.site_id != world.flat for x in city.items)

    async def test_who_may_read_follow_ups(self, call, world):
        elsewhere = Actor(subject="sw-9", role="social_worker", sites=(world.flat,))
        err(await call("list_due_follow_ups", c.ListDueFollowUps(
            actor=elsewhere, site_id=world.shelter)), "forbidden")
        mine = ok(await call("list_due_follow_ups", c.ListDueFollowUps(
            actor=elsewhere, on=date(2027, 1, 1))))
        assert world.case_id not in [x.case_id for x in mine.items]
        for actor in (Actor(subject="p1", role="provider", provider="vhs"),
                      Actor(subject="a1", role="auditor"),
                      Actor(subject="o1", role="operator", operator="op1")):
            reply = await call("list_due_follow_ups", c.ListDueFollowUps(actor=actor))
            assert err(reply, "forbidden").details["role"] == actor.role
