"""The staff's first work forms in headless Chromium against the real servers (housing
in the shared city, the gateway under uvicorn), used as a social worker uses them: she signs in,
registers a household and places it at her site, finds it without typing an id, opens a
move-out case, moves it to searching, records an offer and a viewing, transfers the
household; every form's bad input (missing, too long, wrong type, a full site, a step the
case cannot take) shows the service's reason next to the field and changes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from im_cli.testing import eventually
from support.browser import (
    screenshot,
    serious_violations,
)
from support.city import City, Part, signed_in, tag

pytestmark = pytest.mark.flow


@dataclass
class Stack(Part):
    site: str
    small: str  # a site with one free place
    worker: tuple[str, str]

    async def get(self, path: str) -> Any:
        r = await self.call(path)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    async def post(self, path: str, body: Any) -> Any:
        r = await self.call(path, body)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    async def occupancy(self, site: str) -> int:
        return int((await self.get(f"/api/v1/sites/{site}"))["sections"]["housing"]["occupancy"])


@pytest.fixture(scope="module")
async def stack(shared_city: City) -> Stack:
    test_id = tag()
    s = Stack(shared_city, f"s-{test_id}", f"k-{test_id}",
              await shared_city.user("social_worker"))
    for site, name, capacity in ((s.site, "Munzeler Straße", 30),
                                 (s.small, "Wohnung Limmerstraße", 1),
                                 (f"x-{test_id}", "Schulzentrum Ahlem", 30)):
        await s.post("/api/v1/commands/housing/register_site", {
            "site_id": site, "kind": "shelter", "name": name, "operator_id": "op-1",
            "address": "Munzeler Straße 1", "district": "Linden", "capacity": capacity})
    await s.post("/api/v1/commands/housing/assign_staff", {
        "staff_id": s.worker[0], "name": "Jana Kowalski", "site_ids": [s.site, s.small]})
    await s.post("/api/v1/commands/education/create_course", {
        "course_id": f"c-{test_id}", "kind": "arrival_course",
        "title": "Ankommen in Hannover", "provider": "operator", "site_id": s.site,
        "starts": "2026-03-02", "ends": "2026-06-30", "capacity": 1, "status": "running"})
    await s.post("/api/v1/commands/employment/create_programme", {
        "programme_id": f"p-{test_id}", "name": "Arbeit und Sprache",
        "providers": ["vhs"], "allowed_statuses": ["other_permit"]})
    await s.post("/api/v1/commands/employment/add_phase", {
        "programme_id": f"p-{test_id}", "phase": 1, "starts": "2026-03-01",
        "ends": "2026-08-31", "capacity": 5, "status": "open"})
    return s


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    # the refusals the tests provoke are tolerated; console errors fail the test
    async with signed_in(browser, stack.city, stack.worker,
                         tolerated=(400, 401, 404, 409)) as p:
        yield p


async def refused(page: Page, form: str, name: str, reason: str) -> None:
    """The field is marked invalid, focused, and described by the reason."""
    control = page.locator(f"#{form}-{name}")
    await expect(control).to_have_attribute("aria-invalid", "true")
    await expect(control).to_be_focused()
    await expect(page.locator(f"#{form}-{name}-error")).to_contain_text(reason)


async def test_register_a_household_place_it_and_work_its_move_out_case(
        page: Page, stack: Stack, tmp_path: Path):
    nav = page.get_by_role("navigation", name="Main")
    await nav.get_by_role("link", name="Register household").click()
    await expect(page.get_by_role("heading", name="Register a household", level=1)).to_be_focused()
    before = await stack.occupancy(stack.site)

    # bad input: missing, too long, wrong type; nothing is registered
    await page.get_by_label("Given name").fill("Amina")
    await page.get_by_role("button", name="Register household").click()
    await refused(page, "hh", "members-0-family_name", "This field is required.")
    await page.get_by_label("Family name").fill("H" * 201)
    await page.get_by_role("button", name="Register household").click()
    await refused(page, "hh", "members-0-family_name", "At most 200 characters.")
    await page.get_by_label("Family name").fill("Haddad")
    await page.get_by_label("Year of birth").fill("neunzehnhundert")
    await page.get_by_label("Residence status").select_option("recognised_refugee")
    await page.get_by_label("Arrival date").fill("2026-02-01")
    await page.get_by_role("button", name="Register household").click()
    await refused(page, "hh", "members-0-birth_year", "A whole number is expected")
    await page.get_by_label("Year of birth").fill("1988")
    await page.get_by_label("Languages").fill("ar, en")

    # a second person; then a site too small for both: the conflict is shown at the site
    await page.get_by_role("button", name="Add a person").click()
    person = page.locator('[data-member="1"]')
    await expect(person.get_by_label("Given name")).to_be_focused()
    await person.get_by_label("Given name").fill("Yusuf")
    await person.get_by_label("Family name").fill("Haddad")
    await person.get_by_label("Year of birth").fill("2015")
    await person.get_by_label("Residence status").select_option("recognised_refugee")
    await person.get_by_label("Arrival date").fill("2026-02-01")
    await page.get_by_label("Site").select_option(stack.small)
    await page.get_by_role("button", name="Register household").click()
    await refused(page, "hh", "site_id", f"site {stack.small} is full")
    assert await serious_violations(page) == []  # the form, with a refusal shown
    assert await stack.occupancy(stack.small) == 0
    assert (await stack.get(f"/api/v1/residents?site={stack.small}"))["total"] == 0

    await page.get_by_label("Site").select_option(stack.site)
    await page.get_by_role("button", name="Register household").click()
    done = page.locator("[data-household]")
    await expect(done).to_contain_text("Placed at Munzeler Straße")
    household = await done.get_attribute("data-household")
    amina = await page.locator("main li a").first.inner_text()
    assert await stack.occupancy(stack.site) == before + 2

    async def case_in_housing() -> dict[str, Any]:
        return (await stack.get(f"/api/v1/residents/{amina}"))["sections"]["housing"][
            "move_out_case"]
    await screenshot(page, "household-registered")

    # her start page lists her sites; from hers she finds Amina without typing an id
    await nav.get_by_role("link", name="City overview").click()
    mine = page.locator(f'[data-my-site="{stack.site}"]')
    await expect(mine).to_contain_text(f"{before + 2} / 30")
    await expect(page.locator("[data-my-sites]")).to_have_attribute("data-my-sites", "2")
    await mine.get_by_role("link", name="Residents of Munzeler Straße").click()
    await expect(page.get_by_role("heading", name="Residents", level=1)).to_be_visible()
    await expect(page.get_by_label("Site", exact=True)).to_have_value(stack.site)
    await page.get_by_role("link", name="Haddad, Amina").click()
    await expect(page.get_by_role("heading", name="Resident: Amina Haddad")).to_be_visible()
    work = page.locator(f'[data-work="{household}"]')
    await expect(work).to_contain_text("No move-out case")
    await work.get_by_role("button", name="Open a move-out case").click()
    await expect(page.get_by_role("status")).to_contain_text("Move-out case")
    case = page.locator("[data-case]")
    await expect(case).to_have_attribute("data-stage", "opened")
    await nav.get_by_role("link", name="City overview").click()  # counted on her start page
    await expect(page.locator(f'[data-my-site="{stack.site}"]')).to_contain_text(
        "Open move-out cases1")
    await page.go_back()
    await expect(page.get_by_role("heading", name="Resident: Amina Haddad")).to_be_visible()

    # a step the case cannot take: the reason at the stage; nothing changes
    await page.get_by_label("New stage").select_option("moving")
    await page.get_by_role("button", name="Save stage").click()
    await refused(page, "advance", "stage", "cannot go from opened to moving")
    await page.get_by_label("New stage").select_option("paused")
    await page.get_by_role("button", name="Save stage").click()
    await refused(page, "advance", "stage", "needs a reason")
    assert (await case_in_housing())["stage"] == "opened"  # nothing changed
    # search criteria (with the WBS) move an opened case to searching
    crit = page.locator('[data-form="criteria"]')
    await crit.get_by_label("Household size").fill("2")
    await crit.get_by_label("Rent ceiling (EUR per month)").fill("viel")
    await crit.get_by_role("button", name="Save criteria").click()
    await refused(page, "criteria", "rent_ceiling", "A number is expected")
    await crit.get_by_label("Rent ceiling (EUR per month)").fill("650")
    await crit.get_by_label("Districts (optional)").fill("Linden, List")
    await crit.get_by_label("Housing entitlement certificate (WBS)").select_option("applied")
    await crit.get_by_label("Needs an accessible flat").check()
    await crit.get_by_role("button", name="Save criteria").click()
    await expect(page.get_by_role("status")).to_contain_text("Search criteria saved")
    await expect(case).to_have_attribute("data-stage", "searching")

    # the residence status changes in one step
    await page.locator('[data-form="status"]').get_by_label("Residence status").select_option(
        "subsidiary_protection")
    await page.get_by_role("button", name="Save status").click()
    await expect(page.get_by_role("status")).to_contain_text("subsidiary protection")
    assert (await stack.get(f"/api/v1/residents/{amina}"))["sections"]["housing"][
        "residence_status"] == "subsidiary_protection"

    offer = page.locator('[data-form="offer"]')
    await offer.get_by_label("Landlord").fill("GBH Hannover")
    await offer.get_by_label("Address").fill("Limmerstraße 12")
    await offer.get_by_label("Rooms").fill("drei")
    await offer.get_by_label("Rent (EUR per month)").fill("640")
    await offer.get_by_label("Available from").fill("2026-05-01")
    await offer.get_by_role("button", name="Record offer").click()
    await refused(page, "offer", "rooms", "A whole number is expected")
    assert (await case_in_housing())["offers"] == 0
    await offer.get_by_label("Rooms").fill("3")
    await offer.get_by_role("button", name="Record offer").click()
    await expect(page.get_by_role("status")).to_contain_text("the case is now: offer received")

    viewing = page.locator('[data-form="viewing"]')
    await expect(viewing.get_by_label("Offer")).not_to_have_value("")
    await viewing.get_by_label("Outcome").select_option("accepted")
    await viewing.get_by_role("button", name="Record viewing").click()
    await expect(page.get_by_role("status")).to_contain_text("the case is now: viewing")
    await expect(case).to_contain_text("1 offers, 1 viewings")
    await screenshot(page, "move-out-case")
    assert await serious_violations(page) == []  # the resident's page with its work forms

    # transfer: a full site is refused at the site; then a free one
    place = page.locator('[data-form="place"]')
    await place.get_by_label("Site").select_option(stack.small)
    await place.get_by_role("button", name="Transfer").click()
    await refused(page, "place", "site_id", "is full")
    assert await stack.occupancy(stack.site) == before + 2
    assert await stack.occupancy(stack.small) == 0
    case = await case_in_housing()
    assert (case["stage"], case["offers"], case["viewings"]) == ("viewing", 1, 1)

    # the lease is signed: the moving help is ticked off
    await page.get_by_label("New stage").select_option("lease_signed")
    await page.get_by_role("button", name="Save stage").click()
    await expect(page.get_by_role("status")).to_contain_text("lease signed")
    helping = page.locator('[data-form="help"]')
    await helping.get_by_label("furniture").check()
    await helping.get_by_label("utilities").check()
    await helping.get_by_role("button", name="Save moving help").click()
    await expect(page.get_by_role("status")).to_contain_text("Moving help saved")
    await expect(page.locator('[data-form="help"]').get_by_label("furniture")).to_be_checked()
    assert (await case_in_housing())["help"] == {
        "furniture": True, "address_registration": False, "utilities": True,
        "job_centre": False}


async def test_a_social_worker_cannot_place_at_a_site_she_is_not_deployed_to(
        page: Page, stack: Stack):
    await page.goto(f"{stack.url}/dashboard/#/households/new")
    await expect(page.get_by_role("heading", name="Register a household")).to_be_visible()
    options = await page.get_by_label("Site").locator("option").all_inner_texts()
    assert len(options) == 3, options  # "not placed yet" and her two sites
    assert not any("Ahlem" in o for o in options), options


async def test_the_reasons_in_german(page: Page, stack: Stack):
    await page.get_by_label("Language").select_option("de")
    await page.get_by_role("link", name="Haushalt aufnehmen").click()
    await expect(page.get_by_role("heading", name="Haushalt aufnehmen", level=1)).to_be_visible()
    await page.get_by_label("Vorname").fill("Olena")
    await page.get_by_label("Familienname").fill("B" * 201)
    await page.get_by_role("button", name="Haushalt aufnehmen").click()
    await refused(page, "hh", "members-0-family_name", "Höchstens 200 Zeichen.")
    await page.get_by_label("Familienname").fill("Bondarenko")
    await page.get_by_role("button", name="Haushalt aufnehmen").click()
    await refused(page, "hh", "members-0-birth_year", "Dieses Feld ist erforderlich.")
    # A service's own refusal (a full site) is said in German too, not in the service's English.
    await page.get_by_label("Geburtsjahr").fill("1990")
    await page.get_by_label("Aufenthaltsstatus").select_option("recognised_refugee")
    await page.get_by_label("Ankunftsdatum").fill("2026-02-01")
    await page.get_by_role("button", name="Person hinzufügen").click()
    second = page.locator('[data-member="1"]')
    await second.get_by_label("Vorname").fill("Taras")
    await second.get_by_label("Familienname").fill("Bondarenko")
    await second.get_by_label("Geburtsjahr").fill("2016")
    await second.get_by_label("Aufenthaltsstatus").select_option("recognised_refugee")
    await second.get_by_label("Ankunftsdatum").fill("2026-02-01")
    await page.get_by_label("Standort", exact=True).select_option(stack.small)
    await page.get_by_role("button", name="Haushalt aufnehmen").click()
    await refused(page, "hh", "site_id", f"Der Standort {stack.small} ist voll")
    await expect(page.locator("#hh-site_id-error")).not_to_contain_text("is full")


COURSE = "Ankommen in Hannover (arrival course, 2026-03-02)"


async def test_enrol_and_withdraw_on_the_residents_page(page: Page, stack: Stack):
    household = await stack.post("/api/v1/commands/housing/register_household", {
        "members": [{"given_name": given, "family_name": "Bondarenko", "birth_year": 1990,
                     "residence_status": "other_permit", "arrival_date": "2026-03-01"}
                    for given in ("Olena", "Taras")],
        "site_id": stack.site, "on": "2026-03-02"})
    olena, taras = household["resident_ids"]

    async def known(rid: str) -> bool:  # education learns of residents from housing's events
        return "education" in (await stack.get(f"/api/v1/residents/{rid}"))["sections"]

    for rid in (olena, taras):
        await eventually(lambda r=rid: known(r), timeout=15, interval=0.1)

    await page.goto(f"{stack.url}/dashboard/#/residents/{olena}")
    card = page.locator(f'[data-courses="{olena}"]')
    await expect(card).to_contain_text("Not enrolled in any course.")
    await card.get_by_role("button", name="Enrol").click()  # no course chosen
    await refused(page, "enrol", "course_id", "This field is required.")
    await card.get_by_label("Course", exact=True).select_option(label=COURSE)
    await card.get_by_role("button", name="Enrol").click()
    await expect(page.get_by_role("status")).to_have_text("Enrolled: a seat is confirmed.")
    await expect(card.locator("[data-state=confirmed]")).to_contain_text("Ankommen in Hannover")

    await page.goto(f"{stack.url}/dashboard/#/residents/{taras}")
    card = page.locator(f'[data-courses="{taras}"]')
    await card.get_by_label("Course", exact=True).select_option(label=COURSE)
    await card.get_by_role("button", name="Enrol").click()
    await expect(page.get_by_role("status")).to_contain_text("on the waitlist, place 1")
    assert await serious_violations(page) == []

    await page.goto(f"{stack.url}/dashboard/#/residents/{olena}")
    card = page.locator(f'[data-courses="{olena}"]')
    leaving = card.get_by_role("form", name="Withdraw from Ankommen in Hannover")
    await leaving.get_by_role("button", name="Withdraw").click()  # no reason given
    await expect(leaving.get_by_label("Reason for withdrawing")).to_have_accessible_description(
        "This field is required.")
    await leaving.get_by_label("Reason for withdrawing").fill("found work")
    await leaving.get_by_role("button", name="Withdraw").click()
    await expect(page.get_by_role("status")).to_have_text("Withdrawn from the course.")
    await expect(card.locator("[data-state=withdrawn]")).to_be_visible()
    await page.goto(f"{stack.url}/dashboard/#/residents/{taras}")  # the waitlist moved up
    await expect(page.locator(f'[data-courses="{taras}"] [data-state=confirmed]')).to_be_visible()


async def test_register_for_a_programme_and_record_coaching(page: Page, stack: Stack):
    household = await stack.post("/api/v1/commands/housing/register_household", {
        "members": [{"given_name": "Hamid", "family_name": "Rahimi", "birth_year": 1985,
                     "residence_status": "other_permit", "arrival_date": "2026-03-01"}],
        "site_id": stack.site, "on": "2026-03-02"})
    hamid = household["resident_ids"][0]

    async def coached() -> bool:  # employment learns of residents from housing's events
        async with httpx.AsyncClient(base_url=stack.url, timeout=10) as c:
            r = await c.post("/api/v1/employment/coaching", json={
                "resident_id": hamid, "topic": "applications", "on": "2026-03-03"},
                headers={"Authorization": f"Bearer {stack.token}"})
            return r.status_code == 200

    await eventually(coached, timeout=15, interval=0.1)
    await page.goto(f"{stack.url}/dashboard/#/residents/{hamid}")
    card = page.locator(f'[data-employment="{hamid}"]')
    await expect(card).to_contain_text("Coaching sessions recorded: 1")
    await card.get_by_role("button", name="Register").click()  # nothing chosen
    await refused(page, "participant", "phase", "This field is required.")
    await card.get_by_label("Programme and phase").select_option(
        label="Arbeit und Sprache \u2013 phase 1")
    await card.get_by_role("button", name="Register").click()
    await expect(page.get_by_role("status")).to_contain_text("Registered for the programme")
    await expect(page.locator('[data-employment] [data-state="registered"]')).to_contain_text(
        "Arbeit und Sprache \u2013 phase 1: registered")

    coaching = page.locator('[data-form="coaching"]')
    await coaching.get_by_label("Topic").select_option("internships")
    await coaching.get_by_label("Summary (optional)").fill("x" * 1001)
    await coaching.get_by_role("button", name="Record coaching").click()
    await refused(page, "coaching", "summary", "At most 1000 characters.")
    await coaching.get_by_label("Summary (optional)").fill("Praktikum im Einzelhandel besprochen")
    await coaching.get_by_role("button", name="Record coaching").click()
    await expect(page.get_by_role("status")).to_have_text("Coaching session recorded.")
    await expect(page.locator(f'[data-employment="{hamid}"]')).to_contain_text(
        "Coaching sessions recorded: 2")
    assert await serious_violations(page) == []


async def test_a_household_moves_out(page: Page, stack: Stack):
    household = await stack.post("/api/v1/commands/housing/register_household", {
        "members": [{"given_name": "Leyla", "family_name": "Aziz", "birth_year": 1992,
                     "residence_status": "recognised_refugee", "arrival_date": "2026-03-01"}],
        "site_id": stack.site, "on": "2026-03-02"})
    leyla = household["resident_ids"][0]
    before = await stack.occupancy(stack.site)
    await page.goto(f"{stack.url}/dashboard/#/residents/{leyla}")
    form = page.locator('[data-form="moveout"]')
    await form.get_by_role("button", name="Record the move-out").click()  # no reason
    await refused(page, "moveout", "reason", "This field is required.")
    await form.get_by_label("Why it moves out").select_option("own_flat")
    await form.get_by_role("button", name="Record the move-out").click()
    await expect(page.get_by_role("status")).to_have_text(
        f"The household has moved out of {stack.site}.")
    assert await stack.occupancy(stack.site) == before - 1
    await expect(page.locator('[data-form="moveout"]')).to_have_count(0)
    # no longer at her sites: the resident is no longer hers to see
    await page.get_by_role("link", name="Back to the residents of the site").click()
    await expect(page.get_by_label("Site", exact=True)).to_have_value(stack.site)
    await expect(page.get_by_role("link", name="Aziz, Leyla")).to_have_count(0)
