"""The volunteers plugin, installed and started with the rest unchanged, shows up in the
gateway: in the live services and as its own section of a resident's answer."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from employment.plugin import spec as employment_spec
from housing.plugin import spec as housing_spec
from im_cli.testing import eventually
from im_runtime.plugins import installed

pytestmark = pytest.mark.flow


async def test_volunteers_appears_in_services_and_in_the_resident_answer(servers, kit):
    volunteers_spec = installed()["volunteers"]  # found through its entry point alone
    settings = kit.settings_for(servers)
    async with kit.running(housing_spec, employment_spec, volunteers_spec, settings=settings), \
            kit.gateway_for(settings) as gw:
        city = await kit.seed(gw)
        services = (await gw.get("/api/v1/services")).json()
        assert "volunteers" in {s["name"] for s in services}

        volunteer = kit.rid("v")
        r = await gw.post("/api/v1/commands/volunteers/register_volunteer", {
            "volunteer_id": volunteer, "name": "Lotte", "languages": ["ar", "de"],
            "districts": ["List"], "offers": ["language_tandem"], "capacity": 2,
            "background_check_on": date.today().isoformat()})
        assert r.status_code == 200, r.text

        async def proposed() -> Any:  # volunteers learns of the resident from housing
            r = await gw.post("/api/v1/commands/volunteers/propose_match", {
                "volunteer_id": volunteer, "resident_id": city.resident,
                "offer": "language_tandem"})
            return r.json() if r.status_code == 200 else None

        match = await eventually(proposed, timeout=15, interval=0.2)
        body = (await gw.get(f"/api/v1/residents/{city.resident}")).json()
        section = body["sections"]["volunteers"]
        assert [m["match_id"] for m in section["matches"]] == [match["match_id"]]
        assert {"housing", "employment", "volunteers"} <= set(body["sections"])
        assert body["missing"] == []
