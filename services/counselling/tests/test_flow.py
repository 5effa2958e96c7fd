"""Counselling with housing, end to end over the real bus: an operator's housing_search
referral reaches housing, and the operator reads the outcome on its feedback subjects."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import Actor, ErrorReply
from contracts import housing_commands as c
from contracts import subjects as subj
from contracts.queries import GetResidentOverview
from housing.plugin import spec as housing_spec
from im_cli.publish import prepare, send
from im_cli.testing import eventually, with_prefix
from im_runtime.service import ServiceRuntime

pytestmark = pytest.mark.flow
ADMIN = Actor(subject="admin-1", role="city_admin")


@pytest.fixture
async def housing(settings):
    rt = ServiceRuntime(housing_spec, with_prefix(settings, f"h{uuid.uuid4().hex[:10]}_"))
    await rt.start()
    yield rt
    await rt.stop()


async def call(nc: Any, name: str, command: Any) -> Any:
    route = next(r for r in housing_spec.commands if r.name == name)
    msg = await nc.request(subj.command("housing", name), msgspec.json.encode(command),
                           timeout=10)
    reply = msgspec.json.decode(msg.data, type=route.reply | ErrorReply)
    assert not isinstance(reply, ErrorReply), reply
    return reply


async def test_a_housing_search_referral_reaches_housing_and_the_operator_sees_the_outcome(
        counselling, housing, nc, ask, servers):
    operator, site = f"op-{uuid.uuid4().hex[:6]}", f"site-{uuid.uuid4().hex[:8]}"
    await call(nc, "register_site", c.RegisterSite(
        actor=ADMIN, site_id=site, kind="shelter", name="Munzeler Straße", operator_id=operator,
        address="Munzeler Straße 1", district="Bothfeld", capacity=20))
    resident = await call(nc, "register_resident", c.RegisterResident(
        actor=ADMIN, given_name="Amal", family_name="Haddad", birth_year=1988,
        residence_status="recognised_refugee", arrival_date=date(2026, 1, 5)))
    await call(nc, "place_household", c.PlaceHousehold(
        actor=ADMIN, household_id=resident.household_id, site_id=site, on=date(2026, 1, 6)))
    rid = resident.resident_id

    js = nc.jetstream()
    feedback = await js.subscribe(subj.feedback_of(operator), ordered_consumer=True)
    ref = f"ref-{uuid.uuid4().hex[:8]}"
    data = {"type": "im.operator.referral_requested.v1", "resident_id": rid, "site_id": site,
            "referral_id": ref, "topic": "housing_search", "requested_on": "2026-03-24"}
    prepared = prepare(msgspec.json.encode(data), operator)
    assert prepared.subject == f"im.ops.{operator}.referral_requested.{rid}"
    await send(servers.nats_url, prepared)  # the small Python client of `im publish`
    seen: dict[str, dict[str, Any]] = {}
    while "referral_accepted" not in seen and "referral_rejected" not in seen:
        msg = await feedback.next_msg(timeout=15)
        assert msg.subject.startswith(f"im.fb.{operator}.") and msg.subject.endswith(rid)
        seen[msg.subject.split(".")[3]] = msgspec.json.decode(msg.data)["data"]
    assert seen["referral_received"]["owner"] == "housing"
    accepted = seen["referral_accepted"]
    assert accepted["referral_id"] == ref and accepted["by"] == "housing"
    assert accepted["reference"]  # housing's move-out case

    async def state() -> str | None:
        section, _ = await ask(GetResidentOverview(resident_id=rid))
        refs = (section or {}).get("referrals", [])
        return refs[0]["state"] if refs and refs[0]["state"] == "accepted" else None

    assert await eventually(state) == "accepted"
