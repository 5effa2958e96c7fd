"""A course provider's day in headless Chromium against the real servers (education and
housing in the shared city, the gateway under uvicorn): it signs in, creates a course (bad input
refused at the field, nothing created), finds its participants on the course's page,
keeps the class register session day by session day (its worklist of days to register
shrinks), completes a participant with a result and changes the course; the roster read
is audited, and neither another provider nor a social worker may read it."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from support.browser import (
    refused,
    screenshot,
    serious_violations,
)
from support.city import City, Part, signed_in, tag

pytestmark = pytest.mark.flow

TODAY = date.today()
# A course that began two weeks ago on a Monday: two or three Mondays are due.
STARTS = TODAY - timedelta(days=14 + TODAY.weekday())
ENDS = TODAY + timedelta(days=60)


@dataclass
class Stack(Part):
    provider: str  # the provider's id (its account acts for it)
    account: tuple[str, str]

    async def education(self, command: str, body: Any, token: str | None = None) -> Any:
        return await self.command("education", command, body, token)


@pytest.fixture(scope="module")
async def stack(shared_city: City) -> Stack:
    provider = f"vhs-{tag()}"
    return Stack(shared_city, provider, await shared_city.user("provider", provider=provider))


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    async with signed_in(browser, stack.city, stack.account) as p:
        yield p


async def test_a_provider_creates_a_course_keeps_its_register_and_completes_a_participant(
        page: Page, stack: Stack, tmp_path: Path):
    nav = page.get_by_role("navigation", name="Main")
    await nav.get_by_role("link", name="Courses").click()
    await expect(page.get_by_role("heading", name="My courses", level=1)).to_be_focused()
    await expect(page.get_by_text("No courses.")).to_be_visible()
    assert await serious_violations(page) == []

    # bad input: missing, too long, wrong type, a course ending before it starts
    form = page.locator('[data-form="course"]')
    create = form.get_by_role("button", name="Create course")
    await create.click()
    await refused(page, "course", "title", "This field is required.")
    await form.get_by_label("Title").fill("A" * 201)
    await form.get_by_label("Kind of course").select_option("arrival_course")
    await form.get_by_label("Site id").fill("munzeler-strasse")
    await form.get_by_label("First day").fill(STARTS.isoformat())
    await form.get_by_label("Last day").fill(ENDS.isoformat())
    await form.get_by_label("Seats").fill("viele")
    await create.click()
    await refused(page, "course", "title", "At most 200 characters.")
    await form.get_by_label("Title").fill("Ankommen in Hannover")
    await create.click()
    await refused(page, "course", "capacity", "A whole number is expected")
    await form.get_by_label("Seats").fill("2")
    await form.get_by_label("Last day").fill((STARTS - timedelta(days=1)).isoformat())
    await create.click()
    await refused(page, "course", "ends", "cannot end before it starts")
    await form.get_by_label("Kind of course").select_option("integration_course")
    await form.get_by_label("Last day").fill(ENDS.isoformat())
    await create.click()
    await refused(page, "course", "level", "need a level")
    assert (await stack.education("list_courses", {"provider_id": stack.provider}))[
        "total"] == 0  # nothing was created
    assert await serious_violations(page) == []  # the form, with a refusal shown

    await form.get_by_label("Kind of course").select_option("arrival_course")
    await form.get_by_label("Meets weekly on").select_option("mon")
    await form.get_by_label("At", exact=True).fill("09:30")
    await form.get_by_label("Languages").fill("de, ar")
    await form.get_by_label("State").select_option("running")
    await create.click()
    await expect(page.get_by_role("heading", name="Ankommen in Hannover", level=1)).to_be_visible()
    await expect(page.get_by_role("status")).to_contain_text("created")
    course_id = (await stack.education("list_courses", {"provider_id": stack.provider}))[
        "items"][0]["course_id"]

    # three people enrol (through a social worker or the city): two seats, one waiting
    people = [f"r{i}-{uuid.uuid4().hex[:6]}" for i in (1, 2, 3)]
    for r in people:
        await stack.education("enrol", {"course_id": course_id, "resident_id": r})
    await page.reload()
    roster = page.locator("[data-roster]")
    await expect(roster).to_have_attribute("data-roster", "3")
    await expect(roster.locator('tr[data-state="waitlisted"]')).to_contain_text(people[2])
    due = (await stack.education("get_course_roster", {"course_id": course_id}))["sessions_due"]
    assert due and all(d["recorded"] == 0 and d["expected"] == 2 for d in due)

    # the class register of the oldest day: everyone present but the second
    register = page.locator('[data-form="register"]')
    await expect(register.get_by_label("Session day")).to_have_value(due[0]["on"])
    await register.get_by_label(f"{people[1]} present").uncheck()
    await register.get_by_role("button", name="Save register").click()
    await expect(page.get_by_role("status")).to_contain_text(
        f"Register of {due[0]['on']} saved: 1 of 2 present.")
    marks = {e["resident_id"]: e["attendance"] for e in (await stack.education(
        "get_course_roster", {"course_id": course_id}))["entries"]}
    assert marks[people[0]] == {due[0]["on"]: True} and marks[people[1]] == {due[0]["on"]: False}
    if len(due) > 1:  # the next day to register is offered next
        await expect(register.get_by_label("Session day")).to_have_value(due[1]["on"])
    assert await serious_violations(page) == []
    await screenshot(page, "class-register")

    # its worklist: the days still to register (and on its start page, the course)
    await nav.get_by_role("link", name="City overview").click()
    await expect(page.locator('[data-worklist="register"]')).to_have_text(
        "1 courses with session days to register" if len(due) > 1 else
        "0 courses with session days to register")
    await nav.get_by_role("link", name="Courses").click()
    row = page.locator(f'tr[data-course="{course_id}"]')
    await expect(row.locator("[data-due]")).to_have_attribute("data-due", str(len(due) - 1))

    # completion: the result is required; then the participant is done
    await row.get_by_role("link", name="Ankommen in Hannover").click()
    first = page.locator('tr[data-state="confirmed"]', has_text=people[0])
    await first.get_by_role("button", name="Complete").click()
    enrolment = await first.get_attribute("data-enrolment")
    await refused(page, f"complete-{enrolment}", "passed", "This field is required.")
    await first.get_by_label("Result").select_option("yes")
    await first.get_by_role("button", name="Complete").click()
    await expect(page.get_by_role("status")).to_contain_text(f"{people[0]} completed the course")
    await expect(page.locator(f'tr[data-enrolment="{enrolment}"]')).to_have_attribute(
        "data-state", "completed")

    # more seats: the waiting person moves up; a negative number is refused at the field
    change = page.locator('[data-form="change"]')
    await change.get_by_label("Seats").fill("-1")
    await change.get_by_role("button", name="Save changes").click()
    await refused(page, "change", "capacity", "At least 0")
    await change.get_by_label("Seats").fill("3")
    await change.get_by_role("button", name="Save changes").click()
    await expect(page.get_by_role("status")).to_have_text("The course is changed.")
    await expect(page.locator('tr[data-state="waitlisted"]')).to_have_count(0)
    assert await serious_violations(page) == []

    # in German, a refusal is said in German
    await page.get_by_label("Language").select_option("de")
    await expect(page.get_by_role("heading", name="Anwesenheitsliste")).to_be_visible()
    await page.locator('[data-form="change"]').get_by_label("Plätze", exact=True).fill("drei")
    await page.get_by_role("button", name="Änderungen speichern").click()
    await refused(page, "change", "capacity", "eine ganze Zahl erwartet")
    await screenshot(page, "course-de")


async def test_the_roster_is_audited_and_only_the_courses_provider_and_the_city_read_it(
        stack: Stack):
    course_id = f"c-{uuid.uuid4().hex[:8]}"
    mine = stack.as_("provider", provider=stack.provider)
    await stack.education("create_course", {
        "course_id": course_id, "kind": "literacy", "title": "Lesen", "provider": "other",
        "site_id": "munzeler", "starts": STARTS.isoformat(), "ends": ENDS.isoformat(),
        "capacity": 5}, mine)
    resident = f"r-{uuid.uuid4().hex[:8]}"
    await stack.education("enrol", {"course_id": course_id, "resident_id": resident})
    roster = await stack.education("get_course_roster", {"course_id": course_id}, mine)
    assert [e["resident_id"] for e in roster["entries"]] == [resident]
    audited = await stack.call(f"/api/v1/audit?resident={resident}",
                               token=stack.as_("auditor"))
    assert [(e["subject"], e["action"]) for e in audited.json()["items"]] == [
        ("provider-x", "education.get_course_roster")]
    for token in (stack.as_("provider", provider="caritas"),
                  stack.as_("social_worker", sites=("munzeler",)),
                  stack.as_("operator", operator="op-1")):
        r = await stack.call("/api/v1/commands/education/get_course_roster",
                             {"course_id": course_id}, token)
        assert r.status_code == 403, r.text
    r = await stack.call("/api/v1/commands/education/get_course_roster", {"course_id": "a b"},
                         mine)
    assert r.status_code == 400 and "course_id" in r.text
