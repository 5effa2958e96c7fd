"""An employment programme's provider at work in headless Chromium against the real
servers (housing and employment in-process, the gateway under uvicorn): it signs in,
finds its programme and the phase's participants, activates one, records a placement (a
missing or wrongly typed field is refused at the field, nothing changes) and a drop-out;
a provider that does not run the programme cannot read its participants."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from employment.plugin import spec as employment_spec
from gateway.app import create_app
from gateway.auth import Tokens
from gateway.config import GatewayConfig
from housing.plugin import spec as housing_spec
from im_cli.testing import Servers, eventually
from im_runtime.service import ServiceRuntime
from im_runtime.settings import Settings
from support.browser import (
    http_server,
    refused,
    screenshot,
    serious_violations,
    sign_in,
    user,
    watched_page,
)

pytestmark = pytest.mark.flow


@dataclass
class Stack:
    url: str
    key: bytes
    token: str  # the city admin's machine token, to set the city up and to look
    programme: str
    people: list[str]
    provider: tuple[str, str]

    async def call(self, command: str, body: Any, token: str | None = None) -> httpx.Response:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as c:
            return await c.post(f"/api/v1/commands/{command}", json=body,
                                headers={"Authorization": f"Bearer {token or self.token}"})

    async def ok(self, command: str, body: Any) -> Any:
        r = await self.call(command, body)
        assert r.status_code == 200, (command, r.text)
        return r.json()

    async def states(self) -> list[str]:
        got = await self.ok("employment/get_phase_participants",
                            {"programme_id": self.programme, "phase": 1})
        return [p["state"] for p in got["items"]]


@pytest.fixture(scope="module")
async def stack(servers: Servers) -> AsyncIterator[Stack]:
    test_id = uuid.uuid4().hex[:8]
    settings = Settings(nats_url=servers.nats_url, mongo_url=servers.mongo_url,
                        db_prefix=f"t{test_id}_", retry_backoff=0.05, max_deliver=3,
                        log_format="text")
    config = GatewayConfig(key=secrets.token_bytes(32), deadline=0.5, discovery_ttl=0.2,
                           discovery_timeout=0.2, check_seconds=0.5)
    runtimes = [ServiceRuntime(s, settings) for s in (housing_spec, employment_spec)]
    for rt in runtimes:
        await rt.start()
    try:
        async with http_server(create_app(settings, config)) as url:
            token = Tokens(config.key).mint(role="city_admin", subject="setup")
            s = Stack(url, config.key, token, f"p-{test_id}", [], ("", ""))
            site = f"m-{test_id}"
            await s.ok("housing/register_site", {
                "site_id": site, "kind": "shelter", "name": "Munzeler Straße",
                "operator_id": "op-1", "address": "Munzeler Straße 1", "district": "Linden",
                "capacity": 30})
            member = {"residence_status": "other_permit", "arrival_date": "2026-01-20",
                      "birth_year": 1990}
            hh = await s.ok("housing/register_household", {
                "site_id": site, "on": "2026-02-01", "members": [
                    {**member, "given_name": "Amal", "family_name": "Haddad"},
                    {**member, "given_name": "Omid", "family_name": "Karimi"}]})
            s.people = hh["resident_ids"]
            provider = f"bbw-{test_id}"
            await s.ok("employment/create_programme", {
                "programme_id": s.programme, "name": "Arbeit und Sprache",
                "providers": [provider], "allowed_statuses": ["other_permit"]})
            await s.ok("employment/add_phase", {
                "programme_id": s.programme, "phase": 1, "starts": "2026-03-01",
                "ends": "2026-08-31", "capacity": 5, "status": "open"})
            for rid in s.people:  # employment learns of them from housing's events
                async def registered(rid: str = rid) -> bool:
                    r = await s.call("employment/register_participant", {
                        "programme_id": s.programme, "phase": 1, "resident_id": rid})
                    return r.status_code == 200
                await eventually(registered, timeout=20, interval=0.1)
            s.provider = await user(url, token, "provider", provider=provider)
            yield s
    finally:
        for rt in runtimes:
            await rt.stop()


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    # the refusals the test provokes are tolerated; console errors fail the test
    async with watched_page(browser, tolerated=(400, 403, 404, 409), kinds=("error",)) as p:
        await sign_in(p, stack.url, *stack.provider)
        await expect(p.get_by_role("heading", name="City overview", level=1)).to_be_visible()
        yield p



async def test_a_provider_activates_places_and_records_a_drop_out(
        page: Page, stack: Stack, tmp_path: Path):
    nav = page.get_by_role("navigation", name="Main")
    await nav.get_by_role("link", name="Programmes").click()
    await expect(page.get_by_role("heading", name="Employment programmes", level=1)
                 ).to_be_focused()
    card = page.locator(f'[data-programme="{stack.programme}"]')
    await expect(card).to_contain_text("0 active, 2 registered")
    assert await serious_violations(page) == []
    await card.get_by_role("link").first.click()
    await expect(page.get_by_role("heading", name="Arbeit und Sprache", level=1)).to_be_visible()
    first, second = (page.locator(f'tr:has(th:text-is("{rid}"))') for rid in stack.people)
    await first.get_by_role("button", name="Activate").click()
    await expect(page.get_by_role("status")).to_have_text(f"{stack.people[0]} is active.")
    await expect(first).to_have_attribute("data-state", "active")
    assert await serious_violations(page) == []

    # the placement: missing and wrongly typed fields at the field, nothing changes
    pid = await first.get_attribute("data-participation")
    form = f"placement-{pid}"
    place = page.locator(f'[data-form="{form}"]')
    await place.get_by_label("Placement").select_option("internship")
    await place.get_by_label("Starts on").fill("2026-09-01")
    await place.get_by_label("Hours per week").fill("zwanzig")
    await place.get_by_role("button", name="Record placement").click()
    await refused(page, form, "hours", "A number is expected")
    await place.get_by_label("Hours per week").fill("20")
    await place.get_by_role("button", name="Record placement").click()
    await refused(page, form, "sector", "This field is required.")
    await place.get_by_label("Sector").fill("Pflege")
    await place.get_by_label("Hours per week").fill("60")
    await place.get_by_role("button", name="Record placement").click()
    await refused(page, form, "hours", "At most 48")
    assert await stack.states() == ["active", "registered"]
    await place.get_by_label("Hours per week").fill("20")
    await place.get_by_role("button", name="Record placement").click()
    await expect(page.get_by_role("status")).to_contain_text("the participation is completed")
    await expect(page.locator(f'tr[data-participation="{pid}"]')).to_have_attribute(
        "data-state", "completed")

    # a drop-out needs its reason
    await second.get_by_role("button", name="Record drop-out").click()
    other = await second.get_attribute("data-participation")
    await refused(page, f"dropout-{other}", "reason", "This field is required.")
    await second.get_by_label("Reason").select_option("no_show")
    await second.get_by_role("button", name="Record drop-out").click()
    await expect(page.get_by_role("status")).to_have_text(f"{stack.people[1]} dropped out.")
    assert sorted(await stack.states()) == ["completed", "dropped_out"]
    await screenshot(page, "phase")

    stranger = Tokens(stack.key).mint(role="provider", subject="x", provider="caritas")
    r = await stack.call("employment/get_phase_participants",
                         {"programme_id": stack.programme, "phase": 1}, stranger)
    assert r.status_code == 403, r.text
