"""Kita and school places in headless Chromium against the real servers (housing and
education in-process, the gateway under uvicorn): a social worker requests a Kita place
on a child's page, finds the request in the worklist of places wanted, records the place
offered and concludes it; a missing field or a decline without a reason is refused at the
field and changes nothing; the worklist empties."""

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

from education.plugin import spec as education_spec
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
    token: str  # the city admin's machine token, to set the city up and to look
    child: str
    worker: tuple[str, str]

    async def education(self, command: str, body: Any) -> Any:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as c:
            r = await c.post(f"/api/v1/commands/education/{command}", json=body,
                             headers={"Authorization": f"Bearer {self.token}"})
            assert r.status_code == 200, (command, r.text)
            return r.json()

    async def requests(self) -> list[dict[str, Any]]:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as c:
            r = await c.get(f"/api/v1/residents/{self.child}",
                            headers={"Authorization": f"Bearer {self.token}"})
            return list(r.json()["sections"].get("education", {}).get("access_requests", []))


@pytest.fixture(scope="module")
async def stack(servers: Servers) -> AsyncIterator[Stack]:
    test_id = uuid.uuid4().hex[:8]
    settings = Settings(nats_url=servers.nats_url, mongo_url=servers.mongo_url,
                        db_prefix=f"t{test_id}_", retry_backoff=0.05, max_deliver=3,
                        log_format="text")
    config = GatewayConfig(key=secrets.token_bytes(32), deadline=0.5, discovery_ttl=0.2,
                           discovery_timeout=0.2, check_seconds=0.5)
    runtimes = [ServiceRuntime(s, settings) for s in (housing_spec, education_spec)]
    for rt in runtimes:
        await rt.start()
    try:
        async with http_server(create_app(settings, config)) as url:
            token = Tokens(config.key).mint(role="city_admin", subject="setup")
            headers = {"Authorization": f"Bearer {token}"}
            site = f"m-{test_id}"
            async with httpx.AsyncClient(base_url=url, timeout=10, headers=headers) as c:
                r = await c.post("/api/v1/commands/housing/register_site", json={
                    "site_id": site, "kind": "shelter", "name": "Munzeler Straße",
                    "operator_id": "op-1", "address": "Munzeler Straße 1",
                    "district": "Linden", "capacity": 30})
                assert r.status_code == 200, r.text
                worker = await user(url, token, "social_worker")
                r = await c.post("/api/v1/commands/housing/assign_staff", json={
                    "staff_id": worker[0], "name": "Jana Kowalski", "site_ids": [site]})
                assert r.status_code == 200, r.text
                member = {"family_name": "Haddad", "residence_status": "recognised_refugee",
                          "arrival_date": "2026-01-20"}
                r = await c.post("/api/v1/commands/housing/register_household", json={
                    "site_id": site, "on": "2026-02-01", "members": [
                        {**member, "given_name": "Amal", "birth_year": 1988},
                        {**member, "given_name": "Yara", "birth_year": 2022}]})
                assert r.status_code == 200, r.text
                child = r.json()["resident_ids"][1]
            s = Stack(url, token, child, worker)

            async def education_knows_her_site() -> bool:
                async with httpx.AsyncClient(base_url=url, timeout=10, headers=headers) as c:
                    r = await c.get(f"/api/v1/residents/{child}")
                    return r.json()["sections"].get("education", {}).get("site_id") == site
            await eventually(education_knows_her_site, timeout=20, interval=0.1)
            yield s
    finally:
        for rt in runtimes:
            await rt.stop()


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    # the refusals the test provokes are tolerated; console errors fail the test
    async with watched_page(browser, tolerated=(400, 403, 404, 409), kinds=("error",)) as p:
        await sign_in(p, stack.url, *stack.worker)
        await expect(p.get_by_role("heading", name="City overview", level=1)).to_be_visible()
        yield p



async def test_a_kita_place_from_request_to_placement(page: Page, stack: Stack,
                                                      tmp_path: Path):
    await page.goto(f"{stack.url}/dashboard/#/residents/{stack.child}")
    await expect(page.get_by_role("heading", name="Resident: Yara Haddad")).to_be_visible()
    card = page.locator(f'[data-kita="{stack.child}"]')
    await expect(card).to_contain_text("No Kita or school request.")
    ask = card.locator('[data-form="kita"]')
    await ask.get_by_label("Place at").select_option("kita")
    await ask.get_by_role("button", name="Request place").click()
    await refused(page, "kita", "district", "This field is required.")
    await ask.get_by_label("District").fill("L" * 201)
    await ask.get_by_role("button", name="Request place").click()
    await refused(page, "kita", "district", "At most 200 characters.")
    assert await stack.requests() == []  # nothing was requested
    await ask.get_by_label("District").fill("Linden-Nord")
    await ask.get_by_role("button", name="Request place").click()
    await expect(page.get_by_role("status")).to_have_text("Saved: the Kita request is open.")
    assert await serious_violations(page) == []

    # the worklist of places wanted
    nav = page.get_by_role("navigation", name="Main")
    await nav.get_by_role("link", name="Kita and school").click()
    await expect(page.get_by_role("heading", name="Kita and school places wanted", level=1)
                 ).to_be_focused()
    row = page.locator("tr[data-request]")
    await expect(row).to_have_count(1)
    await expect(row).to_contain_text("Linden-Nord")
    await expect(row).to_contain_text("0 days")
    assert await serious_violations(page) == []
    await row.get_by_role("link", name=stack.child).click()

    # the place offered: the institution is required
    (request,) = await stack.requests()
    offer = page.locator(f'[data-form="offer-{request["request_id"]}"]')
    await offer.get_by_label("Starts on").fill("2026-08-01")
    await offer.get_by_role("button", name="Record offered place").click()
    await refused(page, f"offer-{request['request_id']}", "institution", "This field is required.")
    await offer.get_by_label("Institution").fill("Kita Fössestraße")
    await offer.get_by_role("button", name="Record offered place").click()
    await expect(page.get_by_role("status")).to_have_text(
        "Saved: the Kita request is place offered.")

    # declined needs a reason (the service says so at the field); then placed
    conclude = page.locator(f'[data-form="conclude-{request["request_id"]}"]')
    await conclude.get_by_label("Outcome").select_option("declined")
    await conclude.get_by_role("button", name="Conclude request").click()
    await refused(page, f"conclude-{request['request_id']}", "reason", "needs a reason")
    assert [r["status"] for r in await stack.requests()] == ["offered"]
    await conclude.get_by_label("Outcome").select_option("placed")
    await conclude.get_by_role("button", name="Conclude request").click()
    await expect(page.get_by_role("status")).to_have_text("Saved: the Kita request is placed.")
    await expect(page.locator(f'li[data-request="{request["request_id"]}"]')).to_contain_text(
        "Kita Fössestraße")
    await screenshot(page, "kita")

    await nav.get_by_role("link", name="Kita and school").click()
    await expect(page.get_by_text("Nobody is waiting for a place.")).to_be_visible()
    page_of = await stack.education("list_access_requests", {"status": "placed"})
    assert [r["institution"] for r in page_of["items"]] == ["Kita Fössestraße"]
