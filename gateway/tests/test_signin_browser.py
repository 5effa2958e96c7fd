"""Signing in to the dashboard in headless Chromium against the real servers (housing
in-process, the gateway under uvicorn), as people do it: a first sign-in with a one-time
password, the city admin managing users (bad input shown next to the field), a social
worker who sees the residents of her deployed sites without typing an id and not the
admin page, a disabled user signed out, signing out, a new tab still signed in, and all
of it with the keyboard alone. Screenshots are kept under var/screenshots/."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from playwright.async_api import Browser, BrowserContext, Page, expect

from housing.plugin import spec as housing_spec
from im_cli.testing import Servers
from support.browser import (
    screenshot,
    serious_violations,
    sign_in,
)
from support.city import CONFIG, Part, city, tag

pytestmark = pytest.mark.flow

CHECK = CONFIG["check_seconds"]  # the gateway's check interval (a minute at most in production)
OPERATOR = f"op-{tag()}"  # the operator of her site


@dataclass
class Stack(Part):
    site: str
    other_site: str


@pytest.fixture(scope="module")
async def stack(servers: Servers) -> AsyncIterator[Stack]:
    """A city of its own running housing alone: the menus checked here are those of the
    services running (a plugin such as plans adds its pages)."""
    async with city(servers, (housing_spec,), lockout_attempts=3) as c:
        yield await populated(Stack(c, f"s-{tag()}", f"t-{tag()}"))


async def populated(s: Stack) -> Stack:
    for site, name, op in ((s.site, "Munzeler Straße", OPERATOR),
                           (s.other_site, "Schulzentrum Ahlem", f"op-{tag()}")):
        await s.ok("/api/v1/commands/housing/register_site", {
            "site_id": site, "kind": "shelter", "name": name, "operator_id": op,
            "address": "Munzeler Straße 1", "district": "Linden", "capacity": 20})
    for site, (given, family) in ((s.site, ("Amina", "Haddad")),
                                  (s.other_site, ("Omid", "Karimi"))):
        hh = (await s.ok("/api/v1/residents", {
            "given_name": given, "family_name": family, "birth_year": 1990,
            "languages": ["ar"], "arrival_date": "2025-02-01",
            "residence_status": "recognised_refugee"}))["household_id"]
        await s.ok(f"/api/v1/households/{hh}/placement",
                   {"site_id": site, "on": date.today().isoformat()})
    return s


@pytest.fixture
async def context(browser: Browser) -> AsyncIterator[BrowserContext]:
    ctx = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    yield ctx
    await ctx.close()


@pytest.fixture
async def page(context: BrowserContext) -> AsyncIterator[Page]:
    p = await context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    # refusals the tests provoke: 400 bad input, 401 signed out, 403 first sign-in, 409
    p.on("console", lambda m: errors.append(m.text)
         if m.type == "error" and not any(f"status of {s}" in m.text
                                          for s in (400, 401, 403, 409)) else None)
    yield p
    assert not errors, errors


async def test_a_first_sign_in_sets_ones_own_password(page: Page, stack: Stack, tmp_path: Path):
    reply = await stack.ok("/api/v1/users", {"username": f"ca-{uuid.uuid4().hex[:6]}",
                                               "role": "city_admin", "name": "Anna Admin"})
    username, one_time = reply["user"]["username"], reply["password"]
    await page.goto(f"{stack.url}/")
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_role("button", name="Sign in").click()  # nothing filled in
    name = page.get_by_label("User name")
    await expect(name).to_have_attribute("aria-invalid", "true")
    await expect(name).to_have_accessible_description("This field is required.")
    await expect(name).to_be_focused()
    assert await serious_violations(page) == []
    await name.fill(username)
    await page.get_by_label("Password").fill(one_time)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name="Choose your password")).to_be_visible()
    new = page.get_by_label("New password", exact=True)
    repeat = page.get_by_label("Repeat the new password")
    await new.fill("too short")
    await repeat.fill("too short")
    await page.get_by_role("button", name="Save password and sign in").click()
    await expect(new).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#change-new_password-error")).to_have_text(
        "a password needs at least 12 characters")
    await new.fill("a sentence to remember")
    await repeat.fill("a sentence to forget")
    await page.get_by_role("button", name="Save password and sign in").click()
    await expect(page.locator("#change-repeat-error")).to_have_text("The two passwords differ.")
    assert await serious_violations(page) == []
    await repeat.fill("a sentence to remember")
    await page.get_by_role("button", name="Save password and sign in").click()
    await expect(page.get_by_role("heading", name="City overview", level=1)).to_be_visible()
    await expect(page.locator("#who")).to_have_text("Anna Admin (city administration)")
    await screenshot(page, "first-sign-in")


async def test_the_city_admin_adds_disables_and_resets_users(page: Page, stack: Stack,
                                                             tmp_path: Path):
    await sign_in(page, stack.url, *await stack.user("city_admin"))
    nav = page.get_by_role("navigation", name="Main")
    await nav.get_by_role("link", name="Users").click()
    await expect(page.get_by_role("heading", name="User accounts", level=1)).to_be_focused()
    username = page.get_by_label("User name")
    await username.fill("not valid!")
    await page.get_by_label("Name", exact=True).fill("Jana Kowalski")
    await page.get_by_role("button", name="Add user").click()
    await expect(username).to_have_attribute("aria-invalid", "true")
    await expect(page.locator("#user-username-error")).to_contain_text("not in the expected format")
    worker = f"sw-{uuid.uuid4().hex[:6]}"
    await username.fill(worker)
    await page.get_by_label("Role").select_option("operator")
    await page.get_by_role("button", name="Add user").click()  # an operator needs its id
    await expect(page.locator("#user-operator-error")).to_contain_text("needs the operator")
    await page.get_by_label("Role").select_option("social_worker")
    await page.get_by_role("button", name="Add user").click()
    handed = page.locator(f'[data-one-time="{worker}"]')
    await expect(handed).to_contain_text(f"One-time password for {worker}")
    one_time = await handed.locator("code").inner_text()
    assert len(one_time) >= 12
    row = page.locator(f'tr[data-user="{worker}"]')
    await expect(row).to_contain_text("not signed in yet")
    await screenshot(page, "users")
    assert await serious_violations(page) == []
    await row.get_by_role("button", name="Disable").click()
    await expect(row).to_contain_text("disabled")
    await row.get_by_role("button", name="Enable").click()
    await expect(row).to_contain_text("not signed in yet")
    await row.get_by_role("button", name="Reset password").click()
    await expect(page.locator(f'[data-one-time="{worker}"] code')).not_to_have_text(one_time)


async def test_a_social_worker_sees_her_sites_residents_and_not_the_admin_page(
        page: Page, stack: Stack, tmp_path: Path):
    username, password = await stack.user("social_worker")
    await stack.ok("/api/v1/commands/housing/assign_staff",
                     {"staff_id": username, "name": "Jana Kowalski", "site_ids": [stack.site]})
    await sign_in(page, stack.url, username, password)
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link", name="Residents")).to_be_visible()
    await expect(nav.get_by_role("link", name="Users")).to_be_hidden()
    await nav.get_by_role("link", name="Residents").click()
    await expect(page.get_by_role("heading", name="Residents", level=1)).to_be_visible()
    await expect(page.get_by_label("Site", exact=True)).to_have_value(stack.site)
    await expect(page.get_by_role("link", name="Haddad, Amina")).to_be_visible()
    await expect(page.get_by_role("link", name="Karimi, Omid")).to_have_count(0)
    await screenshot(page, "my-residents")
    assert await serious_violations(page) == []
    await page.goto(f"{stack.url}/dashboard/#/users")
    await expect(page.get_by_role("alert")).to_contain_text("may not see this page")
    await page.goto(f"{stack.url}/dashboard/#/sites/{stack.other_site}")
    await expect(page.get_by_role("alert")).to_contain_text("may not see this page")


async def test_a_disabled_user_is_signed_out(page: Page, stack: Stack):
    username, password = await stack.user("auditor")
    await sign_in(page, stack.url, username, password)
    await expect(page.get_by_role("heading", name="City overview", level=1)).to_be_visible()
    await stack.ok(f"/api/v1/users/{username}/disable", {})
    await page.wait_for_timeout(CHECK * 1000 * 2)
    await page.reload()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("disabled")


async def test_sign_out_and_a_new_tab_that_is_still_signed_in(page: Page, stack: Stack,
                                                              context: BrowserContext):
    await sign_in(page, stack.url, *await stack.user("auditor"))
    await expect(page.get_by_role("heading", name="City overview", level=1)).to_be_visible()
    tab = await context.new_page()  # the refresh cookie signs a new tab in
    await tab.goto(f"{stack.url}/dashboard/")
    await expect(tab.get_by_role("heading", name="City overview", level=1)).to_be_visible()
    await page.get_by_role("button", name="Sign out").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("You are signed out.")
    await page.reload()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await tab.close()


async def test_signing_in_with_the_keyboard_alone(page: Page, stack: Stack):
    username, password = await stack.user("auditor")
    await page.goto(f"{stack.url}/dashboard/")
    await expect(page.get_by_label("User name")).to_be_focused()
    await page.keyboard.type(username)
    await page.keyboard.press("Tab")
    await page.keyboard.type(password)
    await page.keyboard.press("Enter")
    await expect(page.get_by_role("heading", name="City overview", level=1)).to_be_visible()
    await page.keyboard.press("Tab")  # the skip link comes first
    await expect(page.get_by_role("link", name="Skip to content")).to_be_focused()


@pytest.mark.parametrize(("role", "extra", "links"), [
    ("city_admin", {}, ["City overview", "Sites", "Residents", "Register household",
                        "Due follow-ups", "Move-out cases", "Referrals", "Kita and school",
                        "Language courses", "Courses", "Programmes", "Volunteers", "Users",
                        "Erasures"]),
    ("social_worker", {}, ["City overview", "Sites", "Residents", "Register household",
                           "Due follow-ups", "Move-out cases", "Referrals", "Kita and school",
                           "Language courses"]),
    ("operator", {"operator": OPERATOR}, ["City overview", "Sites", "Case notes"]),
    ("provider", {"provider": "vhs"}, ["City overview", "Courses", "Programmes"]),
    ("auditor", {}, ["City overview", "Erasures"]),
])
async def test_each_role_signs_in_and_is_offered_its_own_pages(
        page: Page, stack: Stack, role: str, extra: dict[str, str], links: list[str]):
    await sign_in(page, stack.url, *await stack.user(role, **extra))
    await expect(page.get_by_role("heading", name="City overview", level=1)).to_be_visible()
    nav = page.get_by_role("navigation", name="Main")
    await expect(nav.get_by_role("link")).to_have_text([*links, "My account"])
    if role == "operator":  # its own shelters, not another operator's
        await nav.get_by_role("link", name="Sites").click()
        await expect(page.get_by_role("link", name="Munzeler Straße")).to_be_visible()
        await expect(page.get_by_role("link", name="Schulzentrum Ahlem")).to_have_count(0)


async def test_my_account_changes_the_password_and_ends_another_session(
        page: Page, stack: Stack, browser: Browser):
    username, password = await stack.user("social_worker")
    elsewhere_ctx = await browser.new_context(locale="en-GB")
    elsewhere = await elsewhere_ctx.new_page()
    try:
        await sign_in(elsewhere, stack.url, username, password)
        await expect(elsewhere.get_by_role("heading", name="City overview")).to_be_visible()
        await sign_in(page, stack.url, username, password)
        await page.get_by_role("link", name="My account").click()
        await expect(page.get_by_role("heading", name="My account", level=1)).to_be_focused()
        await expect(page.locator('tr[data-session="other"]')).to_have_count(1)
        await page.locator('tr[data-session="other"]').get_by_role("button").click()
        await expect(page.get_by_role("status")).to_have_text("The session has ended.")
        await elsewhere.get_by_role("link", name="Sites").click()
        await expect(elsewhere.get_by_role("heading", name="Sign in")).to_be_visible()
        await expect(elsewhere.get_by_role("alert")).to_contain_text("signed out")

        await page.get_by_label("Current password").fill("not my password")
        await page.get_by_label("New password", exact=True).fill("a brand new passphrase")
        await page.get_by_label("Repeat the new password").fill("a brand new passphrase")
        await page.get_by_role("button", name="Change password").click()
        await expect(page.locator("#pw-password-error")).to_have_text(
            "wrong user name or password")
        await page.get_by_label("Current password").fill(password)
        await page.get_by_role("button", name="Change password").click()
        await expect(page.get_by_role("status")).to_contain_text("Your password is changed")
        assert await serious_violations(page) == []
        await sign_in(elsewhere, stack.url, username, "a brand new passphrase")
        await expect(elsewhere.get_by_role("heading", name="City overview")).to_be_visible()
    finally:
        await elsewhere_ctx.close()


async def test_the_city_admin_deploys_a_social_worker_who_then_sees_her_site(
        page: Page, stack: Stack, browser: Browser):
    worker, password = await stack.user("social_worker")
    await sign_in(page, stack.url, *await stack.user("city_admin"))
    await page.get_by_role("link", name="Users").click()
    await expect(page.get_by_role("heading", name="User accounts")).to_be_visible()
    await page.get_by_role("link", name=f"Deployment: {worker}").click()
    await expect(page.get_by_role("heading", name=f"Deployment of {worker}")).to_be_visible()
    await expect(page.locator("[data-deployed]")).to_have_text("Not deployed to any site.")
    await page.get_by_label("Munzeler Straße (Linden)").check()
    await page.get_by_role("button", name="Save deployment").click()  # no name yet
    await refused_here(page, "deploy-name", "This field is required.")
    await page.get_by_label("Name in the staff deployment").fill("Jana Kowalski")
    await page.get_by_role("button", name="Save deployment").click()
    await expect(page.get_by_role("status")).to_contain_text("Deployment saved: 1 sites")
    await expect(page.locator("[data-deployed]")).to_have_attribute("data-deployed", stack.site)
    assert await serious_violations(page) == []

    ctx = await browser.new_context(locale="en-GB")
    try:
        her = await ctx.new_page()
        await sign_in(her, stack.url, worker, password)
        await expect(her.locator(f'[data-my-site="{stack.site}"]')).to_contain_text(
            "Munzeler Straße")
        await expect(her.locator("[data-my-sites]")).to_have_attribute("data-my-sites", "1")
    finally:
        await ctx.close()


async def refused_here(page: Page, control_id: str, reason: str) -> None:
    control = page.locator(f"#{control_id}")
    await expect(control).to_have_attribute("aria-invalid", "true")
    await expect(control).to_have_accessible_description(reason)
