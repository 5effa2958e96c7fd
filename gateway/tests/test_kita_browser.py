"""Kita and school places in headless Chromium against the real servers (housing and
education in the shared city, the gateway under uvicorn): a social worker requests a Kita place
on a child's page, finds the request in the worklist of places wanted, records the place
offered and concludes it; a missing field or a decline without a reason is refused at the
field and changes nothing; the worklist empties."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from im_cli.testing import eventually
from support.browser import refused, screenshot, serious_violations
from support.city import City, signed_in, tag

pytestmark = pytest.mark.flow


@dataclass
class Stack:
    city: City
    site: str
    child: str
    worker: tuple[str, str]

    @property
    def url(self) -> str:
        return self.city.url

    async def education(self, command: str, body: Any) -> Any:
        return await self.city.command("education", command, body)

    async def requests(self) -> list[dict[str, Any]]:
        r = await self.city.call(f"/api/v1/residents/{self.child}")
        return list(r.json()["sections"].get("education", {}).get("access_requests", []))


@pytest.fixture(scope="module")
async def stack(shared_city: City) -> Stack:
    c, site = shared_city, f"m-{tag()}"
    await c.command("housing", "register_site", {
        "site_id": site, "kind": "shelter", "name": "Munzeler Straße", "operator_id": "op-1",
        "address": "Munzeler Straße 1", "district": "Linden", "capacity": 30})
    worker = await c.user("social_worker")
    await c.command("housing", "assign_staff", {
        "staff_id": worker[0], "name": "Jana Kowalski", "site_ids": [site]})
    member = {"family_name": "Haddad", "residence_status": "recognised_refugee",
              "arrival_date": "2026-01-20"}
    hh = await c.command("housing", "register_household", {
        "site_id": site, "on": "2026-02-01", "members": [
            {**member, "given_name": "Amal", "birth_year": 1988},
            {**member, "given_name": "Yara", "birth_year": 2022}]})
    child = hh["resident_ids"][1]

    async def education_knows_her_site() -> bool:
        r = await c.call(f"/api/v1/residents/{child}")
        return r.json()["sections"].get("education", {}).get("site_id") == site
    await eventually(education_knows_her_site, timeout=20, interval=0.1)
    return Stack(c, site, child, worker)


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    async with signed_in(browser, stack.city, stack.worker) as p:
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
    page_of = await stack.education("list_access_requests",
                                    {"status": "placed", "site_id": stack.site})
    assert [r["institution"] for r in page_of["items"]] == ["Kita Fössestraße"]
