"""Attack: a plugin answers a scatter-gather query as `housing`.

The gateway decides whether an operator may see a resident from housing's section (the
resident's site and its operator). Any service may answer `resident_overview`; the
gateway used to take the service name from the reply body, so a plugin answering "as
housing" before housing did named the operator of its choice. Now each service
is asked on its own subject with its own reply subject, so an answer is attributed by
where it arrives, and the first one counts."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import ServiceSection
from contracts import subjects as subj
from im_cli import natsauth
from support.attack import Stack, rid


async def placed_resident(gw: Any, operator: str) -> str:
    site, resident = rid("s"), rid("r")
    r = await gw.post("/api/v1/commands/housing/register_site", {
        "site_id": site, "kind": "shelter", "name": f"Shelter {site}", "operator_id": operator,
        "address": "Podbielskistraße 1", "district": "List", "capacity": 50})
    assert r.status_code == 200, r.text
    r = await gw.post("/api/v1/residents", {
        "resident_id": resident, "given_name": "Amina", "family_name": "Haddad",
        "birth_year": 1990, "languages": ["ar"], "residence_status": "recognised_refugee",
        "arrival_date": "2025-02-01"})
    assert r.status_code == 200, r.text
    r = await gw.post(f"/api/v1/households/{r.json()['household_id']}/placement",
                      {"site_id": site, "on": date.today().isoformat()})
    assert r.status_code == 200, r.text
    return resident


@pytest.mark.flow
async def test_a_plugin_answering_as_housing_cannot_hand_an_operator_another_shelters_resident(
        stack: Stack) -> None:
    evil, owner = rid("op"), rid("op")
    async with stack.services("housing"), stack.gateway() as gw, \
            stack.as_user(natsauth.service_user("volunteers")) as rogue:
        resident = await placed_resident(gw, owner)
        forged = msgspec.json.encode(ServiceSection(service="housing", version="9", section={
            "resident_id": resident, "site": {"site_id": "s-x", "operator_id": evil}}))

        async def answer_as_housing(msg: Any) -> None:
            await msg.respond(forged)  # before housing, which reads its database first

        query = subj.query("resident_overview")
        await rogue.nc.subscribe(query, queue="volunteers", cb=answer_as_housing)
        await rogue.nc.subscribe(subj.query_for("resident_overview", "housing"),
                                 cb=answer_as_housing)
        await rogue.nc.flush()
        r = await gw.get(f"/api/v1/residents/{resident}", role="operator", operator=evil)
        assert r.status_code == 403, r.text
        r = await gw.get(f"/api/v1/residents/{resident}", role="operator", operator=owner)
        assert r.status_code == 200, r.text
        assert r.json()["sections"]["housing"]["site"]["operator_id"] == owner
        assert any("im.qry.resident_overview.housing" in e for e in rogue.violations()), \
            rogue.errors
