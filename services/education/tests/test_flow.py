"""Flows with the real servers: a counselling referral published to JetStream becomes an
enrolment visible in the resident overview; housing's moves follow the resident."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import Actor, CloudEvent, ErrorReply, EventData, wrap
from contracts import education_commands as c
from contracts import subjects as subj
from contracts.counselling import ReferralRequested
from contracts.housing import ResidentRegistered, ResidentTransferred, SiteRegistered
from contracts.queries import GetResidentOverview, GetSiteOverview
from im_cli.testing import eventually
from im_runtime.service import consumer_name

pytestmark = [pytest.mark.flow, pytest.mark.usefixtures("education")]

ADMIN = Actor(subject="admin-1", role="city_admin")
ON = date(2026, 3, 2)


def referral(rid: str, ref: str, topic: str, site: str = "munzeler") -> CloudEvent[Any]:
    return wrap(ReferralRequested(referral_id=ref, resident_id=rid, operator_id="op1",
                                  site_id=site, topic=topic, requested_on=ON),
                source="counselling")


async def publish(js: Any, source: str, name: str, data: EventData) -> None:
    event = wrap(data, source=source)
    ack = await js.publish(subj.event(source, name, data.resident_key()),
                           msgspec.json.encode(event), headers={"Nats-Msg-Id": event.id})
    assert not ack.duplicate


async def settled(js: Any, source: str) -> bool:
    info = await js.consumer_info(subj.event_stream(source), consumer_name("education", source))
    return info.num_pending == 0 and info.num_ack_pending == 0


async def test_a_language_course_referral_ends_as_an_enrolment(call, ask, events, nc, test_id):
    js = nc.jetstream()
    site, rid = f"s-{test_id}", f"r-{test_id}"
    nobody = f"early-{test_id}"
    # no language course yet: rejected with the reason
    await publish(js, "counselling", "referral_requested",
                  referral(nobody, f"f0-{test_id}", "language_course", site).data)
    (rejected,) = await eventually(lambda: events.of("referral_rejected", nobody))
    assert "no language course" in rejected["data"]["reason"]
    reply = await call("create_course", c.CreateCourse(
        actor=ADMIN, course_id=f"c-{test_id}", kind="arrival_course", title="Ankommenskurs",
        provider="adult_education_centre", site_id=site, starts=ON, ends=date(2026, 6, 26),
        capacity=12))
    assert not isinstance(reply, ErrorReply), reply
    await publish(js, "counselling", "referral_requested",
                  referral(rid, f"f1-{test_id}", "volunteers", site).data)  # not education's
    await publish(js, "counselling", "referral_requested",
                  referral(rid, f"f2-{test_id}", "language_course", site).data)

    section = await eventually(lambda: _overview(ask, rid))
    (row,) = section["enrolments"]
    assert (row["course_id"], row["status"]) == (f"c-{test_id}", "confirmed")
    (accepted,) = await eventually(lambda: events.of("referral_accepted", rid))
    assert accepted["data"]["reference"] == row["enrolment_id"]
    assert accepted["data"]["referral_id"] == f"f2-{test_id}"
    await eventually(lambda: settled(js, "counselling"))
    assert events.of("referral_accepted", f"f1-{test_id}") == []
    assert events.of("referral_rejected", f"f1-{test_id}") == []


async def _overview(ask: Any, rid: str) -> Any:
    section = await ask(GetResidentOverview(resident_id=rid))
    return section if section and section.get("enrolments") else None


async def test_housing_events_and_a_kita_referral(call, ask, events, nc, test_id):
    js = nc.jetstream()
    child, a, b = f"k-{test_id}", f"a-{test_id}", f"b-{test_id}"
    await publish(js, "housing", "site_registered", SiteRegistered(
        site_id=a, kind="shelter", name="Munzeler Straße", operator_id="op1",
        district=f"Bothfeld{test_id}", capacity=40))
    await publish(js, "housing", "resident_registered", ResidentRegistered(
        resident_id=child, household_id="h1", birth_year=2023,
        residence_status="asylum_pending", arrival_date=ON))
    await publish(js, "housing", "resident_transferred", ResidentTransferred(
        resident_id=child, household_id="h1", from_site_id=b, site_id=a, moved_on=ON))
    await eventually(lambda: settled(js, "housing"))
    await publish(js, "counselling", "referral_requested",
                  referral(child, f"f-{test_id}", "kita_school", a).data)
    (opened,) = await eventually(lambda: events.of("access_request_opened", child))
    assert (opened["data"]["kind"], opened["data"]["district"], opened["data"]["site_id"]) \
        == ("kita", f"Bothfeld{test_id}", a)
    here = await ask(GetSiteOverview(site_id=a))
    assert here["open_access_requests"] == {"kita": 1, "school": 0}
    mine = await ask(GetResidentOverview(resident_id=child))
    assert mine["site_id"] == a and mine["access_requests"][0]["status"] == "open"
