"""An employment programme's provider at work in headless Chromium against the real
servers (housing and employment in the shared city, the gateway under uvicorn): it signs in,
finds its programme and the phase's participants, activates one, records a placement (a
missing or wrongly typed field is refused at the field, nothing changes) and a drop-out;
a provider that does not run the programme cannot read its participants."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from playwright.async_api import Browser, Page, expect

from gateway.auth import Tokens
from im_cli.testing import eventually
from support.browser import (
    refused,
    screenshot,
    serious_violations,
)
from support.city import City, Part, signed_in, tag

pytestmark = pytest.mark.flow


@dataclass
class Stack(Part):
    programme: str
    people: list[str]
    provider: tuple[str, str]

    async def states(self) -> list[str]:
        got = await self.command("employment", "get_phase_participants",
                                 {"programme_id": self.programme, "phase": 1})
        return [p["state"] for p in got["items"]]


@pytest.fixture(scope="module")
async def stack(shared_city: City) -> Stack:
    test_id = tag()
    s = Stack(shared_city, f"p-{test_id}", [], ("", ""))
    site = f"m-{test_id}"
    await s.command("housing", "register_site", {
        "site_id": site, "kind": "shelter", "name": "Munzeler Straße",
        "operator_id": "op-1", "address": "Munzeler Straße 1", "district": "Linden",
        "capacity": 30})
    member = {"residence_status": "other_permit", "arrival_date": "2026-01-20",
              "birth_year": 1990}
    hh = await s.command("housing", "register_household", {
        "site_id": site, "on": "2026-02-01", "members": [
            {**member, "given_name": "Amal", "family_name": "Haddad"},
            {**member, "given_name": "Omid", "family_name": "Karimi"}]})
    s.people = hh["resident_ids"]
    provider = f"bbw-{test_id}"
    await s.command("employment", "create_programme", {
        "programme_id": s.programme, "name": "Sprache und Beruf",
        "providers": [provider], "allowed_statuses": ["other_permit"]})
    await s.command("employment", "add_phase", {
        "programme_id": s.programme, "phase": 1, "starts": "2026-03-01",
        "ends": "2026-08-31", "capacity": 5, "status": "open"})
    for rid in s.people:  # employment learns of them from housing's events
        async def registered(rid: str = rid) -> bool:
            r = await s.call("/api/v1/commands/employment/register_participant", {
                "programme_id": s.programme, "phase": 1, "resident_id": rid})
            return r.status_code == 200
        await eventually(registered, timeout=20, interval=0.1)
    s.provider = await shared_city.user("provider", provider=provider)
    return s


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    async with signed_in(browser, stack.city, stack.provider) as p:
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
    await expect(page.get_by_role("heading", name="Sprache und Beruf", level=1)).to_be_visible()
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
    r = await stack.call("/api/v1/commands/employment/get_phase_participants",
                         {"programme_id": stack.programme, "phase": 1}, stranger)
    assert r.status_code == 403, r.text
