"""Volunteers and their tandems in headless Chromium against the real servers (housing
and the volunteers plugin in-process, the gateway under uvicorn): the city admin
registers a volunteer (bad input refused at the field, nothing registered), proposes a
tandem on a resident's page, records the agreement, the start and the end with a rating;
the volunteer's place is free again."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from housing.plugin import spec as housing_spec
from im_cli.testing import Servers
from support.browser import (
    refused,
    screenshot,
    serious_violations,
)
from support.city import Part, city, signed_in, tag
from volunteers.plugin import spec as volunteers_spec

pytestmark = pytest.mark.flow
RATING = "Rating (1\u20135, optional)"


@dataclass
class Stack(Part):
    resident: str
    admin: tuple[str, str]

    async def volunteers(self) -> list[dict[str, Any]]:
        return list((await self.command("volunteers", "list_volunteers", {}))["items"])


@pytest.fixture(scope="module")
async def stack(servers: Servers) -> AsyncIterator[Stack]:
    """A city of its own, not the shared one: the volunteers are the whole city's (no
    site or district of a test's own keeps another module's volunteers off the list)."""
    async with city(servers, (housing_spec, volunteers_spec)) as c:
        site = f"m-{tag()}"
        await c.command("housing", "register_site", {
            "site_id": site, "kind": "shelter", "name": "Munzeler Straße",
            "operator_id": "op-1", "address": "Munzeler Straße 1", "district": "Linden",
            "capacity": 30})
        hh = await c.command("housing", "register_household", {
            "site_id": site, "on": "2026-02-01", "members": [{
                "given_name": "Amal", "family_name": "Haddad", "birth_year": 1988,
                "residence_status": "recognised_refugee", "arrival_date": "2026-01-20",
                "languages": ["ar"]}]})
        yield Stack(c, hh["resident_ids"][0], await c.user("city_admin"))


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    async with signed_in(browser, stack.city, stack.admin) as p:
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
