"""Education's events on JetStream (resident id as the last subject token) and its
answers to the scatter-gather queries, with the real servers."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import Actor, ErrorReply
from contracts import education_commands as c
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from im_cli.testing import eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("education")]

ADMIN = Actor(subject="admin-1", role="city_admin")
START, END = date(2026, 3, 2), date(2026, 6, 26)


def ok(reply: Any) -> Any:
    assert not isinstance(reply, ErrorReply), reply
    return reply


async def test_every_state_change_emits_its_event_and_the_views_show_it(
        call, events, ask, test_id):
    cid, site = f"c-{test_id}", f"s-{test_id}"
    parent, child, r2, r3 = (f"{p}-{test_id}" for p in ("p", "k", "r2", "r3"))
    ok(await call("create_course", c.CreateCourse(
        actor=ADMIN, course_id=cid, kind="integration_course", level="A2", title="DTZ A2",
        provider="adult_education_centre", site_id=site, starts=START, ends=END, capacity=2,
        childcare_places=1)))
    ok(await call("change_course", c.ChangeCourse(actor=ADMIN, course_id=cid,
                                                  status="running")))
    e1 = ok(await call("enrol", c.Enrol(actor=ADMIN, course_id=cid, resident_id=parent,
                                        children=[child]))).enrolment_id
    e2 = ok(await call("enrol", c.Enrol(actor=ADMIN, course_id=cid, resident_id=r2)))
    ok(await call("enrol", c.Enrol(actor=ADMIN, course_id=cid, resident_id=r3)))
    ok(await call("record_attendance", c.RecordAttendance(
        actor=ADMIN, enrolment_id=e1, session_on=START, present=True)))
    ok(await call("record_attendance", c.RecordAttendance(
        actor=ADMIN, enrolment_id=e1, session_on=date(2026, 3, 5), present=False)))
    ok(await call("withdraw", c.Withdraw(actor=ADMIN, enrolment_id=e2.enrolment_id,
                                         reason="moved to another city")))
    ok(await call("complete_enrolment", c.CompleteEnrolment(
        actor=ADMIN, enrolment_id=e1, passed=True, certificate_level="A2")))
    req = ok(await call("request_access", c.RequestAccess(
        actor=ADMIN, resident_id=child, parent_id=parent, kind="kita", district="Bothfeld")))
    ok(await call("offer_access_place", c.OfferAccessPlace(
        actor=ADMIN, request_id=req.request_id, institution="Kita Sahlkamp", starts=END)))
    ok(await call("conclude_access", c.ConcludeAccess(
        actor=ADMIN, request_id=req.request_id, outcome="placed")))
    other = ok(await call("request_access", c.RequestAccess(
        actor=ADMIN, resident_id=child, parent_id=parent, kind="school", district="Bothfeld")))
    expected = {  # event -> the resident it is about (its subject's last token)
        "enrolment_confirmed": [parent, r2], "childcare_place_allotted": [child],
        "enrolment_waitlisted": [r3], "attendance_recorded": [parent, parent],
        "enrolment_withdrawn": [r2], "enrolment_promoted": [r3],
        "enrolment_completed": [parent], "access_request_opened": [child, child],
        "access_place_offered": [child], "access_request_placed": [child],
    }
    ids = (parent, child, r2, r3)
    await eventually(lambda: all(len(events.of(n, *ids)) == len(w) for n, w in expected.items()))
    for subject, event, _ in events.seen:
        name = subject.split(".")[3]
        if name in expected:
            assert subject.startswith("im.evt.education.")
            assert subject.rsplit(".", 1)[-1] == event["data"]["resident_id"] == event["subject"]
            # an event keyed by the child names no one else (an erasure of the parent
            # could not reach it)
            assert parent not in msgspec.json.encode(event).decode() or event["subject"] == parent
    for name, who in expected.items():
        assert sorted(e["data"]["resident_id"] for e in events.of(name, *ids)) == sorted(who)
    assert events.of("enrolment_waitlisted", r3)[0]["data"]["position"] == 1
    assert events.of("enrolment_completed", parent)[0]["data"]["certificate_level"] == "A2"
    assert events.of("attendance_recorded", parent)[-1]["data"]["rate"] == 0.5
    for name in ("course_created", "course_changed"):
        await eventually(lambda n=name: events.of(n, cid))

    mine = await ask(GetResidentOverview(resident_id=parent))
    (row,) = mine["enrolments"]
    assert (row["status"], row["attendance_rate"], row["result"]) == (
        "completed", 0.5, {"passed": True, "certificate_level": "A2"})
    assert {(a["kind"], a["status"]) for a in mine["children_access"]} == {
        ("kita", "placed"), ("school", "open")}
    waiting = ok(await call("enrol", c.Enrol(actor=ADMIN, course_id=cid,
                                             resident_id=f"r4-{test_id}")))
    assert (await ask(GetResidentOverview(resident_id=f"r4-{test_id}")))["enrolments"][0][
        "waitlist_position"] == waiting.position == 1
    here = await ask(GetSiteOverview(site_id=site))
    (seen,) = here["courses"]
    assert (seen["confirmed"], seen["free_seats"], seen["waitlist"]) == (2, 0, 1)
    assert await ask(GetSiteOverview(site_id=f"nothing-{test_id}")) == {}
    stats = await ask(GetCityStats())
    assert stats["courses_by_kind"]["integration_course"] >= 1
    assert stats["enrolled"] >= 1 and stats["waitlisted"] >= 1 and stats["completed"] >= 1
    assert 0 < stats["completion_rate"] <= 1 and stats["open_access_requests"]["school"] >= 1
    assert other.state == "open"


async def test_cancelling_a_course_releases_everyone_with_an_event_each(call, events, test_id):
    cid = f"c-{test_id}"
    ok(await call("create_course", c.CreateCourse(
        actor=ADMIN, course_id=cid, kind="parents_cafe", title="Elterncafé",
        provider="operator", address="Munzeler Straße 1", starts=START, ends=END,
        capacity=2)))
    rids = [f"r{i}-{test_id}" for i in range(4)]
    for rid in rids:
        ok(await call("enrol", c.Enrol(actor=ADMIN, course_id=cid, resident_id=rid)))
    ok(await call("cancel_course", c.CancelCourse(actor=ADMIN, course_id=cid,
                                                  reason="room closed")))
    await eventually(lambda: len(events.of("enrolment_withdrawn", *rids)) == 4)
    withdrawn = events.of("enrolment_withdrawn", *rids)
    assert sorted((e["data"]["resident_id"], e["data"]["was"]) for e in withdrawn) == [
        (rids[0], "confirmed"), (rids[1], "confirmed"), (rids[2], "waitlisted"),
        (rids[3], "waitlisted")]
    await eventually(lambda: events.of("course_cancelled", cid))
