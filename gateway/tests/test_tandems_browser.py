"""Volunteers and their tandems in headless Chromium against the real servers (housing
and the volunteers plugin in-process, the gateway under uvicorn): the city admin
registers a volunteer (bad input refused at the field, nothing registered), proposes a
tandem on a resident's page, records the agreement, the start and the end with a rating;
the volunteer's place is free again."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from gateway.app import create_app
from gateway.auth import Tokens
from gateway.config import GatewayConfig
from housing.plugin import spec as housing_spec
from im_cli.testing import Servers
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
from volunteers.plugin import spec as volunteers_spec

pytestmark = pytest.mark.flow
RATING = "Rating (1\u20135, optional)"


@dataclass
class Stack:
    url: str
    token: str  # a machine token of the city admin, to set the city up and to look
    resident: str
    admin: tuple[str, str]

    async def volunteers(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as c:
            r = await c.post("/api/v1/commands/volunteers/list_volunteers", json={},
                             headers={"Authorization": f"Bearer {self.token}"})
            assert r.status_code == 200, r.text
            return list(r.json()["items"])


@pytest.fixture(scope="module")
async def stack(servers: Servers) -> AsyncIterator[Stack]:
    test_id = uuid.uuid4().hex[:8]
    settings = Settings(nats_url=servers.nats_url, mongo_url=servers.mongo_url,
                        db_prefix=f"t{test_id}_", retry_backoff=0.05, max_deliver=3,
                        log_format="text")
    config = GatewayConfig(key=secrets.token_bytes(32), deadline=0.5, discovery_ttl=0.2,
                           discovery_timeout=0.2, check_seconds=0.5)
    runtimes = [ServiceRuntime(s, settings) for s in (housing_spec, volunteers_spec)]
    for rt in runtimes:
        await rt.start()
    try:
        async with http_server(create_app(settings, config)) as url:
            token = Tokens(config.key).mint(role="city_admin", subject="setup")
            async with httpx.AsyncClient(base_url=url, timeout=10, headers={
                    "Authorization": f"Bearer {token}"}) as c:
                site = f"m-{test_id}"
                r = await c.post("/api/v1/commands/housing/register_site", json={
                    "site_id": site, "kind": "shelter", "name": "Munzeler Straße",
                    "operator_id": "op-1", "address": "Munzeler Straße 1",
                    "district": "Linden", "capacity": 30})
                assert r.status_code == 200, r.text
                r = await c.post("/api/v1/commands/housing/register_household", json={
                    "site_id": site, "on": "2026-02-01", "members": [{
                        "given_name": "Amal", "family_name": "Haddad", "birth_year": 1988,
                        "residence_status": "recognised_refugee",
                        "arrival_date": "2026-01-20", "languages": ["ar"]}]})
                assert r.status_code == 200, r.text
                resident = r.json()["resident_ids"][0]
            admin = await user(url, token, "city_admin")
            yield Stack(url, token, resident, admin)
    finally:
        for rt in runtimes:
            await rt.stop()


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    # the refusals the test provokes are tolerated; console errors fail the test
    async with watched_page(browser, tolerated=(400, 403, 404, 409), kinds=("error",)) as p:
        await sign_in(p, stack.url, *stack.admin)
        await expect(p.get_by_role("heading", name="City overview", level=1)).to_be_visible()
        yield p



async def test_a_volunteer_is_registered_and_a_tandem_runs_its_course(
        page: Page, stack: Stack, tmp_path: Path):
    nav = page.get_by_role("navigation", name="Main")
    await nav.get_by_role("link", name="Volunteers").click()
    await expect(page.get_by_role("heading", name="Volunteers", level=1)).to_be_focused()
    form = page.locator('[data-form="volunteer"]')
    submit = form.get_by_role("button", name="Register volunteer")
    await form.get_by_label("Districts").fill("Linden, List")
    await submit.click()
    await refused(page, "volunteer", "name", "This field is required.")
    await form.get_by_label("Name").fill("Hanna Berger")
    await form.get_by_label("Tandems at once").fill("viele")
    await submit.click()
    await refused(page, "volunteer", "capacity", "A whole number is expected")
    await form.get_by_label("Tandems at once").fill("1")
    await form.get_by_label("Languages").fill("de, ar")
    await form.get_by_label("language tandem").check()
    checked = (date.today() - timedelta(days=20)).isoformat()
    await form.get_by_label("Certificate of conduct checked on").fill(checked)
    assert await stack.volunteers() == []  # nothing was registered
    await submit.click()
    await expect(page.get_by_role("status")).to_have_text("Hanna Berger is registered.")
    await expect(page.locator("tr[data-volunteer]")).to_contain_text("0 of 1")
    assert await serious_violations(page) == []

    # her tandem on Amal's page
    await page.goto(f"{stack.url}/dashboard/#/residents/{stack.resident}")
    card = page.locator(f'[data-tandems="{stack.resident}"]')
    await expect(card).to_contain_text("No tandem yet.")
    propose = card.locator('[data-form="propose"]')
    await propose.get_by_label("Volunteer").select_option(label="Hanna Berger (language tandem)")
    await propose.get_by_label("Offer").select_option("mentoring")
    await propose.get_by_role("button", name="Propose").click()
    await refused(page, "propose", "offer", "does not offer mentoring")
    await propose.get_by_label("Offer").select_option("language_tandem")
    await propose.get_by_role("button", name="Propose").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Saved: the language tandem is proposed.")
    row = card.locator("tr[data-match]")
    await row.get_by_role("button", name="Both agreed").click()
    await expect(row).to_have_attribute("data-state", "agreed")
    await row.get_by_role("button", name="Started").click()
    await expect(row).to_have_attribute("data-state", "active")
    assert await serious_violations(page) == []

    end = row.locator("form[data-form^='end-']")
    await end.get_by_role("button", name="End").click()
    match = (await row.get_attribute("data-match"))
    await refused(page, f"end-{match}", "outcome", "This field is required.")
    await end.get_by_label("Outcome").select_option("completed")
    await end.get_by_label(RATING).fill("9")
    await end.get_by_role("button", name="End").click()
    await refused(page, f"end-{match}", "rating", "At most 5")
    await end.get_by_label(RATING).fill("5")
    await end.get_by_role("button", name="End").click()
    await expect(page.get_by_role("status")).to_have_text("Saved: the language tandem is ended.")
    await screenshot(page, "tandem")
    (hanna,) = await stack.volunteers()
    assert hanna["load"] == 0  # her place is free again
