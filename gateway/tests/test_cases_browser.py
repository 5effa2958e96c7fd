"""A social worker's move-out worklist in headless Chromium against the real servers
(housing in the shared city, the gateway under uvicorn): the open cases of her sites, the longest
waiting first, filtered by site and stage and paged; a case's page with its criteria,
offers, viewings, moving help and history; work done on the applicant's page changes the
worklist. Cases of other sites are neither listed nor readable, and every read is
audited."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from gateway.auth import Tokens
from support.browser import (
    screenshot,
    serious_violations,
)
from support.city import City, Part, signed_in, tag

pytestmark = pytest.mark.flow


@dataclass
class Stack(Part):
    sites: tuple[str, str, str]  # two of hers, one elsewhere
    worker: tuple[str, str]
    cases: dict[str, str] = field(default_factory=dict)  # family name -> case id

    async def housing(self, command: str, body: Any, token: str | None = None) -> Any:
        return await self.command("housing", command, body, token)

    async def household(self, site: str, given: str, family: str) -> dict[str, Any]:
        return await self.housing("register_household", {"site_id": site, "on": "2026-02-01",
                                  "members": [{"given_name": given, "family_name": family,
                                               "birth_year": 1985,
                                               "residence_status": "recognised_refugee",
                                               "arrival_date": "2026-01-20"}]})


@pytest.fixture(scope="module")
async def stack(shared_city: City) -> Stack:
    test_id = tag()
    sites = (f"m-{test_id}", f"a-{test_id}", f"x-{test_id}")
    s = Stack(shared_city, sites, await shared_city.user("social_worker"))
    for site, name in zip(sites, ("Munzeler Straße", "Schulzentrum Ahlem",
                                  "Oststadtkrankenhaus"), strict=True):
        await s.housing("register_site", {
            "site_id": site, "kind": "shelter", "name": name, "operator_id": "op-1",
            "address": f"{name} 1", "district": "Linden", "capacity": 30})
    await s.housing("assign_staff", {"staff_id": s.worker[0], "name": "Jana Kowalski",
                                     "site_ids": list(sites[:2])})
    # Three open cases at her sites (oldest first), one at a site not hers.
    for site, given, family in ((sites[0], "Amal", "Haddad"),
                                (sites[1], "Omid", "Karimi"),
                                (sites[0], "Lina", "Nasser"),
                                (sites[2], "Samir", "Fremd")):
        hh = await s.household(site, given, family)
        case = await s.housing("open_move_out_case", {"household_id": hh["household_id"]})
        s.cases[family] = case["case_id"]
    await s.housing("set_search_criteria", {
        "case_id": s.cases["Karimi"], "household_size": 1, "rent_ceiling": 520,
        "districts": ["Linden", "Ahlem"], "wbs": "granted"})
    return s


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    async with signed_in(browser, stack.city, stack.worker) as p:
        yield p


async def test_her_worklist_of_move_out_cases_its_filters_and_a_case_in_full(
        page: Page, stack: Stack, tmp_path: Path):
    # her start page counts what waits for her; the count leads to the worklist
    waiting = page.locator('[data-worklist="cases"]')
    await expect(waiting).to_have_text("3 open move-out cases")
    await waiting.get_by_role("link").click()
    await expect(page.get_by_role("heading", name="Move-out cases at my sites", level=1)
                 ).to_be_focused()
    nav = page.get_by_role("navigation", name="Main")
    rows = page.locator("tr[data-case-row]")
    # her three, the one that moved on last at the end; never the case of another site
    await expect(rows).to_have_count(3)
    await expect(rows.first).to_contain_text("Haddad")
    await expect(rows.last).to_contain_text("Karimi")
    await expect(page.get_by_text("Fremd")).to_have_count(0)
    assert await serious_violations(page) == []
    await screenshot(page, "cases")

    # by site, by stage
    await page.get_by_label("Site", exact=True).select_option(stack.sites[1])
    await page.get_by_role("button", name="Show").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_contain_text("Karimi")
    await page.get_by_label("Site", exact=True).select_option("")
    await page.get_by_label("Stage", exact=True).select_option("opened")
    await page.get_by_role("button", name="Show").click()
    await expect(rows).to_have_count(2)
    await expect(page.get_by_label("Stage", exact=True)).to_have_value("opened")

    # Karimi's case in full
    await page.get_by_label("Stage", exact=True).select_option("searching")
    await page.get_by_role("button", name="Show").click()
    await rows.first.get_by_role("link", name="Omid Karimi").click()
    await expect(page.get_by_role("heading", name="Move-out case: Omid Karimi", level=1)
                 ).to_be_visible()
    criteria = page.locator('[data-part="criteria-h"]')
    await expect(criteria).to_contain_text("Linden, Ahlem")
    await expect(criteria).to_contain_text("granted")
    await expect(page.locator('[data-part="offers-h"]')).to_contain_text("No offers yet.")
    await expect(page.locator('[data-part="history-h"]')).to_contain_text("searching")
    assert await serious_violations(page) == []

    # she records an offer on the applicant's page; the worklist and the case show it
    await page.get_by_role("link", name="Work on the case on Omid Karimi's page").click()
    await expect(page.get_by_role("heading", name="Resident: Omid Karimi")).to_be_visible()
    offer = page.locator('[data-form="offer"]')
    await offer.get_by_label("Landlord").fill("hanova")
    await offer.get_by_label("Address").fill("Wunstorfer Straße 7")
    await offer.get_by_label("Rooms").fill("2")
    await offer.get_by_label("Rent (EUR per month)").fill("510")
    await offer.get_by_label("Available from").fill("2026-05-01")
    await offer.get_by_role("button", name="Record offer").click()
    await expect(page.get_by_role("status")).to_contain_text("offer received")
    await nav.get_by_role("link", name="Move-out cases").click()
    row = page.locator(f'tr[data-case-row="{stack.cases["Karimi"]}"]')
    await expect(row).to_have_attribute("data-stage", "offer_received")
    await row.get_by_role("link").click()
    offers = page.locator('[data-part="offers-h"]')
    await expect(offers).to_contain_text("Wunstorfer Straße 7")
    await expect(offers).to_contain_text("hanova")
    history = page.locator('[data-part="history-h"] tbody tr')
    await expect(history).to_have_count(2)
    await expect(history.last).to_contain_text(stack.worker[0])
    await screenshot(page, "case")

    # in German
    await page.get_by_label("Language").select_option("de")
    await expect(page.get_by_role("heading", name="Auszugsfall: Omid Karimi")).to_be_visible()
    await expect(page.get_by_role("heading", name="Suchkriterien")).to_be_visible()


async def test_a_case_elsewhere_is_not_hers_and_every_read_is_audited(
        page: Page, stack: Stack):
    other = stack.cases["Fremd"]
    await page.goto(f"{stack.url}/dashboard/#/cases/{other}")
    await expect(page.get_by_role("alert")).to_be_visible()
    await expect(page.get_by_text("Move-out case: Samir Fremd")).to_have_count(0)
    worker = Tokens(stack.key).mint(role="social_worker", subject=stack.worker[0],
                                    sites=stack.sites[:2])
    for body in ({"site_id": stack.sites[2]},):
        r = await stack.call("/api/v1/commands/housing/list_move_out_cases", body, worker)
        assert r.status_code == 403, r.text
    r = await stack.call("/api/v1/commands/housing/list_move_out_cases", {"limit": 0}, worker)
    assert r.status_code == 400 and "limit" in r.text
    provider = Tokens(stack.key).mint(role="provider", subject="p", provider="vhs")
    r = await stack.call("/api/v1/commands/housing/get_move_out_case",
                         {"case_id": stack.cases["Haddad"]}, provider)
    assert r.status_code == 403, r.text
    await stack.housing("get_move_out_case", {"case_id": stack.cases["Haddad"]}, worker)
    auditor = Tokens(stack.key).mint(role="auditor", subject="a")
    r = await stack.call(f"/api/v1/audit?subject={stack.worker[0]}", token=auditor)
    actions = {e["action"] for e in r.json()["items"]}
    assert {"housing.get_move_out_case", "housing.list_move_out_cases"} <= actions
