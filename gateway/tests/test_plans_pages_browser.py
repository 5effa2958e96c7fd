"""Plans' own dashboard pages (a plugin's pages: the gateway names no plan) in headless
Chromium against the real servers, housing and plans in the shared city and the gateway under
uvicorn, used as a social worker uses them: from a resident's page she makes the
household's plan, adds goals, records steps (one done by housing's event), sees the goal
on her worklist, links a step to a fact later, drops and reopens a goal, hands the plan
to a colleague chosen from the site's social workers; every refusal
is shown next to its field and changes nothing; German and English; axe finds nothing
serious."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from im_cli.testing import eventually
from support.browser import (
    screenshot,
    serious_violations,
    sign_in,
    watched_page,
)
from support.city import City, Part, signed_in, tag

pytestmark = pytest.mark.flow
YESTERDAY = (date.today() - timedelta(days=1)).isoformat()
TOMORROW = (date.today() + timedelta(days=1)).isoformat()


@dataclass
class Stack(Part):
    site: str
    worker: tuple[str, str]
    colleague: tuple[str, str]
    elsewhere: str = ""  # another site

    async def deploy(self, staff: tuple[str, str], site: str) -> None:
        """Deploy `staff` to `site` only, and wait until plans lists her there."""
        await self.post("/api/v1/commands/housing/assign_staff", {
            "staff_id": staff[0], "name": "Ali Demir", "site_ids": [site]})

        async def listed() -> bool:
            reply = await self.post("/api/v1/commands/plans/list_social_workers",
                                    {"site_id": site})
            return staff[0] in reply["social_workers"]

        await eventually(listed, timeout=15, interval=0.1)

    async def post(self, path: str, body: Any) -> Any:
        r = await self.call(path, body)
        assert r.status_code == 200, (path, r.text)
        return r.json()

    async def household(self, *given: str) -> tuple[str, list[str]]:
        reply = await self.post("/api/v1/commands/housing/register_household", {
            "members": [{"given_name": g, "family_name": "Haddad", "birth_year": 1990 + i,
                         "residence_status": "recognised_refugee",
                         "arrival_date": "2026-02-01"} for i, g in enumerate(given)],
            "site_id": self.site, "on": "2026-02-02"})
        household, members = reply["household_id"], reply["resident_ids"]

        async def known() -> bool:  # plans learns of households from housing's events
            r = await self.call("/api/v1/commands/plans/get_plan",
                                {"household_id": household})
            return r.status_code == 404 and "has no plan" in r.text

        await eventually(known, timeout=15, interval=0.1)
        return household, members

    async def plan(self, household: str) -> Any:
        return await self.post("/api/v1/commands/plans/get_plan", {"household_id": household})


@pytest.fixture(scope="module")
async def stack(shared_city: City) -> Stack:
    test_id = tag()
    s = Stack(shared_city, f"s-{test_id}", await shared_city.user("social_worker"),
              await shared_city.user("social_worker"), f"s2-{test_id}")
    for site, name in ((s.site, "Munzeler Straße"), (s.elsewhere, "Misburg Nord")):
        await s.post("/api/v1/commands/housing/register_site", {
            "site_id": site, "kind": "shelter", "name": name,
            "operator_id": "op-1", "address": f"{name} 1", "district": "Linden",
            "capacity": 30})
    for staff, name in ((s.worker[0], "Jana Kowalski"), (s.colleague[0], "Ali Demir")):
        await s.post("/api/v1/commands/housing/assign_staff", {
            "staff_id": staff, "name": name, "site_ids": [s.site]})
    return s


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    async with signed_in(browser, stack.city, stack.worker,
                         tolerated=(400, 401, 403, 404, 409), kinds=("error", "warning")) as p:
        yield p


async def refused(page: Page, control_id: str, reason: str) -> None:
    """The field is marked invalid, focused, and described by the reason."""
    control = page.locator(f"#{control_id}")
    await expect(control).to_have_attribute("aria-invalid", "true")
    await expect(control).to_be_focused()
    await expect(page.locator(f"#{control_id}-error")).to_contain_text(reason)


async def saved(page: Page, text: str) -> None:
    await expect(page.get_by_role("status")).to_contain_text(text)


async def test_a_social_worker_makes_and_works_a_households_plan(
        page: Page, stack: Stack, tmp_path: Path):
    household, (amina, _) = await stack.household("Amina", "Yusuf")
    # from Amina's page: no plan yet, and the way to make one
    await page.goto(f"{stack.url}/dashboard/#/residents/{amina}")
    await expect(page.get_by_role("heading", name="Resident: Amina Haddad")).to_be_visible()
    card = page.locator('[data-section="plans"]')
    await expect(card).to_contain_text("No integration plan yet.")
    await card.get_by_role("link", name="Make a plan for the household").click()
    await expect(page.locator(f'[data-no-plan="{household}"]')).to_be_visible()
    # the responsible social worker is one deployed to the household's site (herself unless
    # she chooses a colleague)
    chooser = page.locator("#create-social_worker option")
    await expect(chooser).to_have_count(3)
    assert set(await chooser.evaluate_all("os => os.map(o => o.value)")) == {
        "", stack.worker[0], stack.colleague[0]}
    await page.get_by_role("button", name="Make the plan").click()
    await saved(page, "The plan is made.")
    # the members in the household's order (by their random ids)
    await expect(page.get_by_role("heading", name=re.compile(
        r"^Integration plan: (Amina Haddad, Yusuf Haddad|Yusuf Haddad, Amina Haddad)$"),
        level=1)).to_be_visible()
    await expect(page.locator("[data-social-worker]")).to_have_attribute(
        "data-social-worker", stack.worker[0])

    # a goal: bad input is refused next to its field, and nothing is added
    form = page.locator('[data-form="goal"]')
    await form.get_by_role("button", name="Add goal").click()
    await refused(page, "goal-title", "This field is required.")
    await form.get_by_label("Goal", exact=True).fill("D" * 201)
    await form.get_by_role("button", name="Add goal").click()
    await refused(page, "goal-title", "At most 200 characters.")
    assert (await stack.plan(household))["goals"] == []
    await form.get_by_label("For", exact=True).select_option(label="Amina Haddad")
    await form.get_by_label("Field", exact=True).select_option("language")
    await form.get_by_label("Goal", exact=True).fill("Deutsch auf B1")
    await form.get_by_label("Due by (optional)").fill(YESTERDAY)
    await form.get_by_label("Moves forward when (optional)").select_option(
        "language_course_completed")
    await form.get_by_label("Language level (language courses)").select_option("B1")
    await form.get_by_role("button", name="Add goal").click()
    await saved(page, "Goal added.")
    language = page.locator('[data-goal]').filter(has_text="Deutsch auf B1")
    await expect(language).to_contain_text("Moves forward when")
    await expect(language).to_contain_text("language course completed (B1)")

    # a housing goal for the household, with a step that housing's event will do
    await form.get_by_label("Field", exact=True).select_option("housing")
    await form.get_by_label("Goal", exact=True).fill("Eine eigene Wohnung")
    await form.get_by_role("button", name="Add goal").click()
    await saved(page, "Goal added.")
    flat = page.locator('[data-goal]').filter(has_text="Eine eigene Wohnung")
    goal_id = await flat.get_attribute("data-goal")
    await flat.get_by_text("Work on “Eine eigene Wohnung”").click()
    step = flat.locator(f'[data-form="step-{goal_id}"]')
    await step.get_by_label("Step", exact=True).fill("Auszugsfall eröffnen")
    await step.get_by_label("Moves forward when (optional)").select_option(
        "move_out_case_opened")
    await step.get_by_role("button", name="Record step").click()
    await saved(page, "Step recorded.")
    flat = page.locator(f'[data-goal="{goal_id}"]')
    await flat.get_by_text("Work on “Eine eigene Wohnung”").click()
    step = flat.locator(f'[data-form="step-{goal_id}"]')
    await step.get_by_label("Step", exact=True).fill("Wohnungsangebote durchsehen")
    await step.get_by_label("Responsible", exact=True).select_option("resident")
    await step.get_by_role("button", name="Record step").click()
    await saved(page, "Step recorded.")
    # link a step to a fact after the goal was made: a fact about one person needs the
    # member on a household's goal (refused at the fact, nothing linked), then it is linked
    flat = page.locator(f'[data-goal="{goal_id}"]')
    # (the notice said the same after the first step: wait for the page drawn again)
    await expect(flat.locator('[data-step="s2"]')).to_contain_text("Wohnungsangebote")
    await flat.get_by_text("Work on “Eine eigene Wohnung”").click()
    linking = flat.locator(f'[data-form="link-{goal_id}"]')
    await linking.get_by_label("What it moves forward").select_option(
        label="Wohnungsangebote durchsehen")
    await linking.get_by_label("When this is reported").select_option("referral_accepted")
    await linking.get_by_role("button", name="Link", exact=True).click()
    await refused(page, f"link-{goal_id}-fact", "so the link must name resident_id")
    assert await serious_violations(page) == []  # the goal's forms open, a refusal shown
    links = next(g for g in (await stack.plan(household))["goals"]
                 if g["goal_id"] == goal_id)["links"]
    assert [link["fact"] for link in links] == ["move_out_case_opened"]
    await linking.get_by_label("About which member").select_option(label="Amina Haddad")
    await linking.get_by_role("button", name="Link", exact=True).click()
    await saved(page, "Linked: the plan follows that fact now.")
    await expect(page.locator(f'[data-goal="{goal_id}"] [data-step="s2"]')).to_contain_text(
        "moves forward when: referral accepted")
    links = next(g for g in (await stack.plan(household))["goals"]
                 if g["goal_id"] == goal_id)["links"]
    assert [(link["fact"], link["subject"], link["step_id"]) for link in links][1] == (
        "referral_accepted", amina, "s2")
    await page.locator(f'[data-goal="{goal_id}"]').get_by_role(
        "button", name="Mark “Wohnungsangebote durchsehen” as done").click()
    await saved(page, "Step done: Wohnungsangebote durchsehen.")
    await expect(page.locator(f'[data-goal="{goal_id}"] [data-goal-status]')).to_have_text(
        "in progress \u2013 started")

    # housing opens the move-out case: the plan follows by itself, naming the event
    await stack.post(f"/api/v1/households/{household}/move-out-case", {})

    async def done_by_event() -> bool:
        goal = next(g for g in (await stack.plan(household))["goals"]
                    if g["goal_id"] == goal_id)
        return goal["status"] == "reached"

    await eventually(done_by_event, timeout=15, interval=0.1)
    await page.reload()
    flat = page.locator(f'[data-goal="{goal_id}"]')
    await expect(flat.locator("[data-goal-status]")).to_have_text("reached \u2013 all steps done")
    await expect(flat.locator('[data-done="true"]').first).to_contain_text(
        "move-out case opened, reported on")
    await expect(flat).to_contain_text("im.housing.move_out_case_opened.v1")
    assert await serious_violations(page) == []  # the plan page with its forms
    await screenshot(page, "plan")

    # her worklist names the language goal past its due date
    nav = page.get_by_role("navigation", name="Main")
    await nav.get_by_role("link", name="Integration plans").click()
    await expect(page.get_by_role("heading", name="Worklist: integration plans",
                                  level=1)).to_be_visible()
    rows = page.locator('[data-list="overdue_goals"] tbody tr')
    await expect(rows.filter(has_text=household)).to_contain_text("Language")
    await expect(page.locator('[data-total="overdue_goals"]')).not_to_have_text("0")
    await page.get_by_label("Field (goals)").select_option("housing")
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator('[data-list="overdue_goals"]')).to_have_count(0)
    await expect(page.get_by_text("Nothing on this list.")).to_be_visible()
    assert await serious_violations(page) == []
    await page.get_by_label("Field (goals)").select_option("")
    await page.get_by_role("button", name="Show").click()
    await rows.filter(has_text=household).get_by_role("link", name=household).click()

    # drop the language goal (a reason that does not fit is refused), then take it up again
    language = page.locator('[data-goal]').filter(has_text="Deutsch auf B1")
    lang_id = await language.get_attribute("data-goal")
    await language.get_by_text("Work on “Deutsch auf B1”").click()
    status = language.locator(f'[data-form="status-{lang_id}"]')
    await status.get_by_label("New status").select_option("dropped")
    await status.get_by_label("Reason", exact=True).select_option("confirmed")
    await status.get_by_role("button", name="Save status").click()
    await refused(page, f"status-{lang_id}-reason", "a goal becomes dropped with reason")
    assert next(g for g in (await stack.plan(household))["goals"]
                if g["goal_id"] == lang_id)["status"] == "open"
    await status.get_by_label("Reason", exact=True).select_option("replaced")
    await status.get_by_role("button", name="Save status").click()
    await saved(page, "Status saved: dropped.")
    language = page.locator(f'[data-goal="{lang_id}"]')
    await expect(language).to_have_attribute("data-status", "dropped")
    await language.get_by_text("Work on “Deutsch auf B1”").click()
    await language.get_by_role("button", name="Reopen goal").click()
    await saved(page, "The goal is taken up again.")
    await expect(page.locator(f'[data-goal="{lang_id}"] [data-goal-status]')).to_have_text(
        "open \u2013 taken up again")

    # Amina's consent: a day to come is refused at the day
    consent = page.locator('[data-form="consent"]')
    await consent.get_by_label("Member of the household").select_option(label="Amina Haddad")
    await consent.get_by_label("Consent to the plan").select_option("yes")
    await consent.get_by_label("On", exact=True).fill(TOMORROW)
    await consent.get_by_role("button", name="Record consent").click()
    await refused(page, "consent-on", f"consent on {TOMORROW} lies in the future")
    assert (await stack.plan(household))["consent"] == []
    await consent.get_by_label("On", exact=True).fill(YESTERDAY)
    await consent.get_by_role("button", name="Record consent").click()
    await saved(page, "Consent recorded.")
    await expect(page.locator("[data-plan]")).to_contain_text("Amina Haddad: given on")

    # hand the plan over to a colleague of the site, chosen from the list: none chosen is
    # refused at the field; one who has left the site meanwhile is refused by the service
    handover = page.locator('[data-form="handover"]')
    options = handover.locator("#handover-social_worker option")
    assert await options.evaluate_all("os => os.map(o => o.value)") == [
        "", stack.colleague[0]]  # not herself
    await handover.get_by_role("button", name="Hand over").click()
    await refused(page, "handover-social_worker", "This field is required.")
    await handover.get_by_label("To social worker").select_option(stack.colleague[0])
    await stack.deploy(stack.colleague, stack.elsewhere)  # moved on while the page was open
    await handover.get_by_role("button", name="Hand over").click()
    await refused(page, "handover-social_worker", f"social worker {stack.colleague[0]} is not "
                  f"deployed to site {stack.site}, where the household lives")
    assert (await stack.plan(household))["social_worker"] == stack.worker[0]
    await stack.deploy(stack.colleague, stack.site)
    await page.reload()
    handover = page.locator('[data-form="handover"]')
    await handover.get_by_label("To social worker").select_option(stack.colleague[0])
    await handover.get_by_role("button", name="Hand over").click()
    await saved(page, f"The plan is handed over to {stack.colleague[0]}.")
    await expect(page.locator("[data-social-worker]")).to_have_attribute(
        "data-social-worker", stack.colleague[0])
    # it left her own worklist (she still sees it on her site's)
    await nav.get_by_role("link", name="Integration plans").click()
    await expect(page.locator('[data-list="overdue_goals"] tbody tr').filter(
        has_text=household)).to_have_count(0)
    await page.get_by_label("Whose").select_option(f"site:{stack.site}")
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator('[data-list="overdue_goals"] tbody tr').filter(
        has_text=household)).to_have_count(1)

    # Amina's page shows the plan in brief, and the way to it
    await page.goto(f"{stack.url}/dashboard/#/residents/{amina}")
    card = page.locator('[data-section="plans"]')
    await expect(card).to_contain_text(f"social worker {stack.colleague[0]}")
    await expect(card.locator(f'[data-goal="{goal_id}"]')).to_contain_text("reached")
    await expect(card.get_by_role("link", name="Open the household's plan")).to_be_visible()


async def test_the_site_and_city_sections_and_german(page: Page, stack: Stack):
    household, _ = await stack.household("Olena")
    await stack.post("/api/v1/commands/plans/create_plan", {
        "household_id": household, "goals": [{"field": "work", "title": "Arbeit finden",
                                              "responsible": {"party": "resident"},
                                              "due": YESTERDAY}]})
    await page.goto(f"{stack.url}/dashboard/#/sites/{stack.site}")
    site = page.locator('[data-section="plans"]')
    await expect(site.get_by_role("heading", name="Integration plans")).to_be_visible()
    await expect(site).to_contain_text("Goals past due")
    await site.get_by_role("link", name="Worklist of this site").click()
    await expect(page.get_by_label("Whose")).to_have_value(f"site:{stack.site}")
    await page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="City overview").click()
    city = page.locator('[data-section="plans"]')
    await expect(city.get_by_role("table", name="Goals by field and status")).to_contain_text(
        "Work and qualification")

    await page.get_by_label("Language").select_option("de")
    nav = page.get_by_role("navigation", name="Main")
    await nav.get_by_role("link", name="Integrationspläne").click()
    await expect(page.get_by_role("heading", name="Arbeitsliste: Integrationspläne",
                                  level=1)).to_be_visible()
    await page.goto(f"{stack.url}/dashboard/#/plans/households/{household}")
    await expect(page.get_by_role("heading", name="Integrationsplan: Olena Haddad")).to_be_visible()
    await expect(page.locator("[data-goal-status]").first).to_have_text("offen")
    goal = page.locator("[data-goal]").first
    await goal.get_by_text("An „Arbeit finden“ arbeiten").click()
    await expect(goal.get_by_role("heading", name="Mit einem Ereignis verknüpfen")).to_be_visible()
    await expect(goal.get_by_label("Art der Vermittlung (Vermittlungen)").first).to_be_visible()
    await expect(page.locator("#handover-social_worker-hint")).to_have_text(
        "Kolleginnen, die dem Standort des Haushalts zugeordnet sind.")
    form = page.locator('[data-form="goal"]')
    await form.get_by_label("Ziel", exact=True).fill("Z" * 201)
    await form.get_by_role("button", name="Ziel hinzufügen").click()
    await refused(page, "goal-title", "Höchstens 200 Zeichen.")
    assert await serious_violations(page) == []


async def test_the_pages_follow_the_role(browser: Browser, stack: Stack):
    operator = await stack.city.user("operator", operator="op-1")
    async with watched_page(browser) as page:
        await sign_in(page, stack.url, *operator)
        await expect(page.get_by_role("heading", name="City overview", level=1)).to_be_visible()
        nav = page.get_by_role("navigation", name="Main")
        await expect(nav.get_by_role("link", name="Sites")).to_be_visible()
        await expect(nav.get_by_role("link", name="Integration plans")).to_be_hidden()
