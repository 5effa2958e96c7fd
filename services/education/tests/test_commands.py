"""Every education command over the bus with the real servers: the happy path, and bad
input, unknown ids, conflicts and unauthorised roles with the exact error code."""

from __future__ import annotations

import copy
from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import MAX_MESSAGE_BYTES, Actor, ErrorReply
from contracts import education_commands as c

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("education")]

ADMIN = Actor(subject="admin-1", role="city_admin")
VHS = Actor(subject="p1", role="provider", provider="vhs")
ADMIN_JSON = {"subject": "admin-1", "role": "city_admin"}
START, END = date(2026, 3, 2), date(2026, 6, 26)


def ok(reply: Any, kind: type = object) -> Any:
    assert not isinstance(reply, ErrorReply), reply
    assert isinstance(reply, kind), reply
    return reply


def err(reply: Any, code: str) -> ErrorReply:
    assert isinstance(reply, ErrorReply), reply
    assert reply.code == code, reply
    assert reply.message
    return reply


def course(course_id: str, capacity: int = 2, **kw: Any) -> c.CreateCourse:
    fields: dict[str, Any] = {"actor": VHS, "course_id": course_id, "kind": "arrival_course",
                              "title": "Ankommenskurs", "provider": "adult_education_centre",
                              "site_id": "munzeler", "starts": START, "ends": END,
                              "capacity": capacity, "childcare_places": 1, **kw}
    return c.CreateCourse(**fields)


@pytest.fixture
async def world(call, test_id) -> dict[str, Any]:
    """A course of 2 seats and 1 childcare place: r1 (with child k1) and r2 seated, r3
    waiting; an open Kita request for k1 and one with an offered place for k2."""
    cid = f"c-{test_id}"
    ok(await call("create_course", course(cid)))
    e = [ok(await call("enrol", c.Enrol(actor=ADMIN, course_id=cid, resident_id=f"r{i}-{test_id}",
                                        children=[f"k1-{test_id}"] if i == 1 else [])))
         for i in (1, 2, 3)]
    a1 = ok(await call("request_access", c.RequestAccess(
        actor=ADMIN, resident_id=f"k1-{test_id}", parent_id=f"r1-{test_id}", kind="kita",
        district="Bothfeld")))
    a2 = ok(await call("request_access", c.RequestAccess(
        actor=ADMIN, resident_id=f"k2-{test_id}", kind="school", district="List")))
    ok(await call("offer_access_place", c.OfferAccessPlace(
        actor=ADMIN, request_id=a2.request_id, institution="IGS List", starts=START)))
    return {"course": cid, "e": [x.enrolment_id for x in e], "open": a1.request_id,
            "offered": a2.request_id}


class TestHappyPaths:
    async def test_a_course_from_creation_to_cancellation(self, call, test_id):
        cid = f"c-{test_id}"
        view = ok(await call("create_course", course(cid, level="A1", kind="integration_course",
                                                     sessions=[c.Session(weekday="mon",
                                                                         starts_at="09:30")],
                                                     languages=["de", "ar"])), c.CourseView)
        assert (view.state, view.level, view.provider_id, view.sessions[0].minutes) \
            == ("planned", "A1", "vhs", 90)
        view = ok(await call("change_course", c.ChangeCourse(
            actor=VHS, course_id=cid, capacity=5, status="running")))
        assert (view.capacity, view.state) == (5, "running")
        assert ok(await call("get_course", c.GetCourse(actor=ADMIN, course_id=cid))) == view
        page = ok(await call("list_courses", c.ListCourses(actor=ADMIN, site_id="munzeler",
                                                           kind="integration_course")),
                  c.CoursePage)
        assert cid in [x.course_id for x in page.items]
        gone = ok(await call("cancel_course", c.CancelCourse(actor=ADMIN, course_id=cid,
                                                             reason="no teacher")))
        assert gone.state == "cancelled"

    async def test_enrolment_waitlist_withdrawal_and_promotion(self, call, world):
        e1, _, e3 = world["e"]
        view = ok(await call("get_enrolment", c.GetEnrolment(actor=ADMIN, enrolment_id=e1)),
                  c.EnrolmentView)
        assert view.state == "confirmed" and view.children[0].state == "placed"
        assert ok(await call("get_enrolment", c.GetEnrolment(
            actor=ADMIN, enrolment_id=e3))).position == 1
        out = ok(await call("withdraw", c.Withdraw(actor=ADMIN, enrolment_id=e1,
                                                   reason="found work")))
        assert out.state == "withdrawn"
        promoted = ok(await call("get_enrolment", c.GetEnrolment(actor=ADMIN, enrolment_id=e3)))
        assert (promoted.state, promoted.position) == ("confirmed", None)

    async def test_children_attendance_and_completion(self, call, world, test_id):
        _, e2, _ = world["e"]
        view = ok(await call("register_children", c.RegisterChildren(
            actor=ADMIN, enrolment_id=e2, children=[f"k9-{test_id}"])))
        assert [(x.state, x.position) for x in view.children] == [("waitlisted", 1)]
        for day, present in ((date(2026, 3, 2), True), (date(2026, 3, 5), False),
                             (date(2026, 3, 9), True), (date(2026, 3, 12), True)):
            view = ok(await call("record_attendance", c.RecordAttendance(
                actor=VHS, enrolment_id=e2, session_on=day, present=present)))
        assert view.attendance_rate == 0.75
        done = ok(await call("complete_enrolment", c.CompleteEnrolment(
            actor=VHS, enrolment_id=e2, passed=True)))
        assert (done.state, done.passed) == ("completed", True)

    async def test_kita_and_school_access(self, call, world):
        offered = ok(await call("offer_access_place", c.OfferAccessPlace(
            actor=ADMIN, request_id=world["open"], institution="Kita Sahlkamp", starts=START)),
            c.AccessRequestView)
        assert (offered.state, offered.institution) == ("offered", "Kita Sahlkamp")
        placed = ok(await call("conclude_access", c.ConcludeAccess(
            actor=ADMIN, request_id=world["open"], outcome="placed")))
        assert placed.state == "placed" and placed.starts == START
        declined = ok(await call("conclude_access", c.ConcludeAccess(
            actor=ADMIN, request_id=world["offered"], outcome="declined",
            reason="too far away")))
        assert (declined.state, declined.reason) == ("declined", "too far away")

    async def test_a_repeated_command_id_is_answered_once(self, call, world, test_id):
        cmd = c.Enrol(actor=ADMIN, course_id=world["course"], resident_id=f"r8-{test_id}")
        first = ok(await call("enrol", cmd))
        assert ok(await call("enrol", cmd)) == first and first.position == 2


# bad input ----------------------------------------------------------------------------

VALID: dict[str, dict[str, Any]] = {
    "create_course": {"course_id": "c1", "kind": "literacy", "title": "t",
                      "provider": "volunteers", "site_id": "s1", "starts": "2026-01-01",
                      "ends": "2026-02-01", "capacity": 3},
    "change_course": {"course_id": "c1", "capacity": 3},
    "cancel_course": {"course_id": "c1", "reason": "no teacher"},
    "get_course": {"course_id": "c1"},
    "list_courses": {"site_id": "s1", "limit": 10},
    "enrol": {"course_id": "c1", "resident_id": "r1"},
    "register_children": {"enrolment_id": "e1", "children": ["k1"]},
    "withdraw": {"enrolment_id": "e1", "reason": "moved"},
    "get_enrolment": {"enrolment_id": "e1"},
    "get_course_roster": {"course_id": "c1"},
    "list_access_requests": {"kind": "kita", "limit": 10},
    "record_attendance": {"enrolment_id": "e1", "session_on": "2026-01-05", "present": True},
    "complete_enrolment": {"enrolment_id": "e1", "passed": True},
    "request_access": {"resident_id": "k1", "kind": "kita", "district": "List"},
    "offer_access_place": {"request_id": "a1", "institution": "Kita", "starts": "2026-08-01"},
    "conclude_access": {"request_id": "a1", "outcome": "placed"},
}
COMMANDS = sorted(VALID)
WRONG_TYPE = {name: next(iter(body.items())) for name, body in VALID.items()}
REQUIRED = {name: next(iter(body)) for name, body in VALID.items()
            if name not in ("list_courses", "list_access_requests")}
OUT_OF_BOUNDS = [
    ("create_course", "capacity", -1), ("create_course", "capacity", 501),
    ("create_course", "course_id", "a.b"), ("create_course", "course_id", "x" * 65),
    ("create_course", "kind", "yoga"), ("create_course", "level", "C2"),
    ("create_course", "provider", "uni"), ("create_course", "title", ""),
    ("create_course", "languages", ["German"]), ("create_course", "languages", []),
    ("create_course", "childcare_places", -2), ("create_course", "status", "cancelled"),
    ("create_course", "sessions", [{"weekday": "mon", "starts_at": "25:00"}]),
    ("create_course", "sessions", [{"weekday": "someday", "starts_at": "09:00"}]),
    ("create_course", "starts", "2026-02-30"),
    ("change_course", "capacity", -1), ("change_course", "status", "cancelled"),
    ("cancel_course", "reason", "no"), ("enrol", "resident_id", "r 1"),
    ("enrol", "children", ["k"] * 9), ("register_children", "children", []),
    ("withdraw", "reason", "x" * 501), ("record_attendance", "present", "yes"),
    ("complete_enrolment", "certificate_level", "B2"), ("request_access", "kind", "uni"),
    ("request_access", "district", ""), ("offer_access_place", "starts", "soon"),
    ("conclude_access", "outcome", "maybe"), ("list_courses", "limit", 0),
    ("list_courses", "limit", 501), ("list_courses", "offset", -1),
    ("list_courses", "provider_id", "v h s"), ("get_course_roster", "course_id", "x" * 65),
    ("list_access_requests", "kind", "uni"), ("list_access_requests", "status", "waiting"),
    ("list_access_requests", "limit", 0), ("list_access_requests", "district", ""),
]


def body(command: str, /, **changes: Any) -> bytes:
    return msgspec.json.encode({**copy.deepcopy(VALID[command]), "actor": ADMIN_JSON,
                                **changes})


class TestBadInput:
    @pytest.mark.parametrize("name", COMMANDS)
    async def test_malformed_json(self, call, name):
        for raw in (b'{"course_id": ', b"not json", b"", b"[1]", b"\xff\xfe"):
            assert name in err(await call(name, raw), "bad_request").message

    @pytest.mark.parametrize("name", COMMANDS)
    async def test_wrong_field_type(self, call, name):
        field, value = WRONG_TYPE[name]
        wrong = 12345 if isinstance(value, str) else "not a number"
        reply = err(await call(name, body(name, **{field: wrong})), "bad_request")
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

    @pytest.mark.parametrize("name", COMMANDS)
    async def test_oversize_body(self, call, name):
        raw = body(name, padding="x" * MAX_MESSAGE_BYTES)
        assert "exceeds" in err(await call(name, raw), "bad_request").message

    async def test_domain_refusals_are_bad_requests(self, call, world, test_id):
        for cmd in (course(f"x-{test_id}", address="Weg 1"),  # a site and an address
                    course(f"x-{test_id}", site_id=None),  # neither
                    course(f"x-{test_id}", ends=date(2026, 1, 1)),
                    course(f"x-{test_id}", kind="integration_course"),  # no level
                    course(f"x-{test_id}", level="A2")):  # a level for an arrival course
            err(await call("create_course", cmd), "bad_request")
        err(await call("record_attendance", c.RecordAttendance(
            actor=ADMIN, enrolment_id=world["e"][0], session_on=date(2027, 1, 1),
            present=True)), "bad_request")
        err(await call("complete_enrolment", c.CompleteEnrolment(
            actor=ADMIN, enrolment_id=world["e"][0], passed=True, certificate_level="A1")),
            "bad_request")
        err(await call("conclude_access", c.ConcludeAccess(
            actor=ADMIN, request_id=world["offered"], outcome="declined")), "bad_request")


class TestNotFound:
    async def test_unknown_ids(self, call):
        x = "nobody-here"
        for name, cmd in [
            ("change_course", c.ChangeCourse(actor=ADMIN, course_id=x, capacity=1)),
            ("cancel_course", c.CancelCourse(actor=ADMIN, course_id=x, reason="gone")),
            ("get_course", c.GetCourse(actor=ADMIN, course_id=x)),
            ("enrol", c.Enrol(actor=ADMIN, course_id=x, resident_id="r1")),
            ("register_children", c.RegisterChildren(actor=ADMIN, enrolment_id=x,
                                                     children=["k"])),
            ("withdraw", c.Withdraw(actor=ADMIN, enrolment_id=x, reason="gone")),
            ("get_enrolment", c.GetEnrolment(actor=ADMIN, enrolment_id=x)),
            ("get_course_roster", c.GetCourseRoster(actor=ADMIN, course_id=x)),
            ("record_attendance", c.RecordAttendance(actor=ADMIN, enrolment_id=x,
                                                     session_on=START, present=True)),
            ("complete_enrolment", c.CompleteEnrolment(actor=ADMIN, enrolment_id=x,
                                                       passed=False)),
            ("offer_access_place", c.OfferAccessPlace(actor=ADMIN, request_id=x,
                                                      institution="K", starts=START)),
            ("conclude_access", c.ConcludeAccess(actor=ADMIN, request_id=x, outcome="placed")),
        ]:
            reply = err(await call(name, cmd), "not_found")
            assert x in reply.message and x in reply.details.values(), name


class TestConflicts:
    async def test_conflicts(self, call, world, test_id):
        cid, (e1, e2, e3) = world["course"], world["e"]
        err(await call("create_course", course(cid)), "conflict")
        double = err(await call("enrol", c.Enrol(actor=ADMIN, course_id=cid,
                                                 resident_id=f"r3-{test_id}")), "conflict")
        assert double.details["enrolment_id"] == e3
        err(await call("change_course", c.ChangeCourse(actor=ADMIN, course_id=cid,
                                                       capacity=1)), "conflict")
        err(await call("change_course", c.ChangeCourse(actor=ADMIN, course_id=cid,
                                                       childcare_places=0)), "conflict")
        err(await call("record_attendance", c.RecordAttendance(
            actor=ADMIN, enrolment_id=e3, session_on=START, present=True)), "conflict")
        err(await call("complete_enrolment", c.CompleteEnrolment(
            actor=ADMIN, enrolment_id=e3, passed=True)), "conflict")
        ok(await call("withdraw", c.Withdraw(actor=ADMIN, enrolment_id=e2, reason="moved")))
        err(await call("withdraw", c.Withdraw(actor=ADMIN, enrolment_id=e2, reason="again")),
            "conflict")
        err(await call("register_children", c.RegisterChildren(
            actor=ADMIN, enrolment_id=e2, children=["k"])), "conflict")
        err(await call("request_access", c.RequestAccess(
            actor=ADMIN, resident_id=f"k1-{test_id}", kind="kita", district="x")), "conflict")
        err(await call("offer_access_place", c.OfferAccessPlace(
            actor=ADMIN, request_id=world["offered"], institution="K", starts=START)),
            "conflict")
        err(await call("conclude_access", c.ConcludeAccess(
            actor=ADMIN, request_id=world["open"], outcome="placed")), "conflict")
        ok(await call("change_course", c.ChangeCourse(actor=ADMIN, course_id=cid,
                                                      status="finished")))
        for name, cmd in [
            ("change_course", c.ChangeCourse(actor=ADMIN, course_id=cid, capacity=9)),
            ("cancel_course", c.CancelCourse(actor=ADMIN, course_id=cid, reason="late")),
            ("enrol", c.Enrol(actor=ADMIN, course_id=cid, resident_id=f"new-{test_id}")),
        ]:
            assert "finished" in err(await call(name, cmd), "conflict").message, name
        assert e1


def writes(w: dict[str, Any], actor: Actor) -> list[tuple[str, Any]]:
    e1 = w["e"][0]
    return [
        ("create_course", c.CreateCourse(**{**msgspec.structs.asdict(course("zz")),
                                            "actor": actor, "provider_id": "vhs"})),
        ("change_course", c.ChangeCourse(actor=actor, course_id=w["course"], capacity=9)),
        ("cancel_course", c.CancelCourse(actor=actor, course_id=w["course"], reason="why")),
        ("enrol", c.Enrol(actor=actor, course_id=w["course"], resident_id="zz")),
        ("register_children", c.RegisterChildren(actor=actor, enrolment_id=e1,
                                                 children=["zz"])),
        ("withdraw", c.Withdraw(actor=actor, enrolment_id=e1, reason="why")),
        ("record_attendance", c.RecordAttendance(actor=actor, enrolment_id=e1,
                                                 session_on=START, present=True)),
        ("complete_enrolment", c.CompleteEnrolment(actor=actor, enrolment_id=e1,
                                                   passed=True)),
        ("request_access", c.RequestAccess(actor=actor, resident_id="zz", kind="kita",
                                           district="d")),
        ("offer_access_place", c.OfferAccessPlace(actor=actor, request_id=w["open"],
                                                  institution="K", starts=START)),
        ("conclude_access", c.ConcludeAccess(actor=actor, request_id=w["offered"],
                                             outcome="placed")),
    ]


class TestForbidden:
    @pytest.mark.parametrize("actor", [
        Actor(subject="a1", role="auditor"), Actor(subject="o1", role="operator",
                                                   operator="op1")], ids=["auditor", "operator"])
    async def test_roles_that_may_not_write(self, call, world, actor):
        for name, cmd in writes(world, actor):
            assert err(await call(name, cmd), "forbidden").details["role"] == actor.role, name

    async def test_another_provider_may_not_touch_the_course(self, call, world):
        other = Actor(subject="p9", role="provider", provider="caritas")
        for name, cmd in writes(world, other):
            reply = err(await call(name, cmd), "forbidden")
            assert reply.details["role"] == "provider", name
        err(await call("get_enrolment", c.GetEnrolment(actor=other,
                                                       enrolment_id=world["e"][0])), "forbidden")

    async def test_a_social_worker_outside_the_residents_site(self, call, world):
        worker = Actor(subject="sw-9", role="social_worker", sites=("elsewhere",))
        for name in ("enrol", "withdraw", "register_children", "request_access",
                     "offer_access_place", "conclude_access"):
            cmd = dict(writes(world, worker))[name]
            assert "not assigned" in err(await call(name, cmd), "forbidden").message, name
        for name in ("create_course", "change_course", "record_attendance"):
            err(await call(name, dict(writes(world, worker))[name]), "forbidden")


class TestRoster:
    """The class register's read: the course's provider and the city see who is enrolled
    (ids only), their marks and the session days still to register; nobody else."""

    async def test_roster_register_and_the_providers_worklist(self, call, test_id):
        cid = f"cr-{test_id}"
        own = Actor(subject="p1", role="provider", provider=f"vhs-{test_id}")
        ok(await call("create_course", course(cid, capacity=2, status="running", actor=own,
                                               sessions=[c.Session(weekday="mon",
                                                                   starts_at="09:30")])))
        e = [ok(await call("enrol", c.Enrol(actor=ADMIN, course_id=cid,
                                            resident_id=f"r{i}-{test_id}"))).enrolment_id
             for i in (1, 2, 3)]
        ok(await call("record_attendance", c.RecordAttendance(
            actor=own, enrolment_id=e[0], session_on=START, present=True)))
        roster = ok(await call("get_course_roster", c.GetCourseRoster(actor=own, course_id=cid)),
                    c.CourseRoster)
        assert roster.course.course_id == cid
        assert [(x.resident_id, x.state, x.position) for x in roster.entries] == [
            (f"r1-{test_id}", "confirmed", None), (f"r2-{test_id}", "confirmed", None),
            (f"r3-{test_id}", "waitlisted", 1)]
        assert roster.entries[0].attendance == {START.isoformat(): True}
        # every Monday from the start to the course's end (it lies in the past)
        assert roster.sessions_due[0].on == START and len(roster.sessions_due) == 17
        assert all(d.on.weekday() == 0 and d.expected == 2 for d in roster.sessions_due)
        assert (roster.sessions_due[0].recorded, roster.sessions_due[1].recorded) == (1, 0)
        page = ok(await call("list_courses", c.ListCourses(actor=own,
                                                           provider_id=f"vhs-{test_id}")))
        assert [(x.course_id, x.sessions_to_register) for x in page.items] == [(cid, 17)]
        ok(await call("record_attendance", c.RecordAttendance(
            actor=own, enrolment_id=e[1], session_on=START, present=False)))
        page = ok(await call("list_courses", c.ListCourses(actor=own,
                                                           provider_id=f"vhs-{test_id}")))
        assert page.items[0].sessions_to_register == 16

    async def test_who_may_read_a_roster(self, call, world):
        cid = world["course"]
        for actor in (ADMIN, VHS, Actor(subject="a1", role="auditor")):
            ok(await call("get_course_roster", c.GetCourseRoster(actor=actor, course_id=cid)))
        for actor in (Actor(subject="p9", role="provider", provider="caritas"),
                      Actor(subject="sw-1", role="social_worker", sites=("munzeler",)),
                      Actor(subject="o1", role="operator", operator="op1")):
            reply = err(await call("get_course_roster",
                                   c.GetCourseRoster(actor=actor, course_id=cid)), "forbidden")
            assert reply.details["role"] == actor.role


class TestAccessWorklist:
    """Kita and school requests waiting for a place, the longest waiting first."""

    async def test_waiting_requests_by_kind_and_state(self, call, test_id):
        district = f"D-{test_id}"
        ids = [ok(await call("request_access", c.RequestAccess(
            actor=ADMIN, resident_id=f"k{i}-{test_id}", kind=kind, district=district))).request_id
            for i, kind in enumerate(("kita", "school", "kita"))]
        page = ok(await call("list_access_requests", c.ListAccessRequests(
            actor=ADMIN, district=district)), c.AccessPage)
        assert [x.request_id for x in page.items] == ids and page.total == 3
        assert all(x.opened_at is not None for x in page.items)
        kita = ok(await call("list_access_requests", c.ListAccessRequests(
            actor=ADMIN, district=district, kind="kita")))
        assert [x.request_id for x in kita.items] == [ids[0], ids[2]]
        ok(await call("offer_access_place", c.OfferAccessPlace(
            actor=ADMIN, request_id=ids[0], institution="Kita Sonnenschein", starts=START)))
        refused = err(await call("conclude_access", c.ConcludeAccess(
            actor=ADMIN, request_id=ids[0], outcome="declined")), "bad_request")
        assert refused.details["field"] == "reason"
        ok(await call("conclude_access", c.ConcludeAccess(actor=ADMIN, request_id=ids[0],
                                                          outcome="placed")))
        waiting = ok(await call("list_access_requests", c.ListAccessRequests(
            actor=ADMIN, district=district)))
        assert [x.request_id for x in waiting.items] == ids[1:]
        placed = ok(await call("list_access_requests", c.ListAccessRequests(
            actor=ADMIN, district=district, status="placed")))
        assert [(x.request_id, x.institution) for x in placed.items] == [
            (ids[0], "Kita Sonnenschein")]

    async def test_who_may_list_them(self, call, test_id):
        worker = Actor(subject="sw-1", role="social_worker", sites=(f"s-{test_id}",))
        assert ok(await call("list_access_requests", c.ListAccessRequests(actor=worker))
                  ).total == 0  # none at her sites (these children live at none)
        err(await call("list_access_requests", c.ListAccessRequests(
            actor=worker, site_id="elsewhere")), "forbidden")
        for actor in (VHS, Actor(subject="o1", role="operator", operator="op1"),
                      Actor(subject="a1", role="auditor")):
            reply = err(await call("list_access_requests", c.ListAccessRequests(actor=actor)),
                        "forbidden")
            assert reply.details["role"] == actor.role
