"""Volunteers over the bus with the real servers, installed and started with the rest
unchanged: it is discovered, answers the scatter-gather queries, takes its commands, and
a counselling referral with topic `volunteers` becomes a proposed match."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import msgspec
import pytest

from contracts import Actor, ErrorReply
from contracts import subjects as subj
from contracts.counselling import ReferralRequested
from contracts.privacy import PRIVACY_REPORT, RESIDENT_EXPORT, RETENTION
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from im_cli.testing import eventually
from im_runtime.discovery import instances
from im_runtime.plugins import installed
from volunteers import contracts as c

pytestmark = pytest.mark.integration
ADMIN = Actor(subject="admin-1", role="city_admin")


async def call(nc: Any, name: str, command: Any) -> Any:
    from volunteers.plugin import spec

    route = next(r for r in spec.commands if r.name == name)
    msg = await nc.request(subj.command("volunteers", name), msgspec.json.encode(command),
                           timeout=10)
    return msgspec.json.decode(msg.data, type=route.reply | ErrorReply)


async def test_installed_like_any_service_and_discovered_from_the_bus(volunteers, bus, vol):
    assert "volunteers" in installed()  # through the entry point, as the README says
    found = await eventually(lambda: _discovered(bus))
    (one,) = found
    # The three views, and the data-protection queries the runtime answers for any service.
    assert one.queries == {"resident_overview", "site_overview", "city_stats", PRIVACY_REPORT,
                           RESIDENT_EXPORT,
                           RETENTION}
    assert "propose_match" in one.metadata["commands"]
    assert await vol.ask(bus, GetResidentOverview(resident_id="nobody")) == {}


async def _discovered(nc: Any) -> Any:
    return (await instances(nc)).get("volunteers")


async def test_a_referral_with_topic_volunteers_becomes_a_proposed_match(volunteers, bus,
                                                                         test_id, vol):
    site = f"s-{test_id}"
    for source, data in vol.history(site, "List", 2):
        await vol.publish(bus, source, data)
    await eventually(lambda: vol.settled(bus, "housing"))
    reply = await call(bus, "register_volunteer", c.RegisterVolunteer(
        actor=ADMIN, volunteer_id=f"v-{test_id}", name="Hanna", languages=["ar"],
        districts=["List"], offers=["accompaniment"], capacity=2,
        background_check_on=date.today() - timedelta(days=10)))
    assert isinstance(reply, c.VolunteerView), reply
    rid = f"{site}-r1"  # speaks Arabic
    await vol.publish(bus, "counselling", ReferralRequested(
        referral_id=f"ref-{test_id}", resident_id=rid, operator_id="op1", site_id=site,
        topic="volunteers", requested_on=date.today()))

    async def matched() -> Any:
        section = await vol.ask(bus, GetResidentOverview(resident_id=rid))
        return section and section["matches"]

    (match,) = await eventually(matched)
    assert (match["state"], match["volunteer_id"], match["offer"]) \
        == ("proposed", f"v-{test_id}", "accompaniment")
    view = await call(bus, "agree_match", c.AgreeMatch(actor=ADMIN, match_id=match["match_id"]))
    assert view.state == "agreed"
    site_section = await vol.ask(bus, GetSiteOverview(site_id=site))
    assert site_section["matches_by_state"] == {"agreed": 1}
    assert (await vol.ask(bus, GetCityStats()))["volunteers"] == 1
    bad = await call(bus, "agree_match", b'{"match_id": 7}')
    assert isinstance(bad, ErrorReply) and bad.code == "bad_request"
