"""The dashboard in headless Chromium (Debian's, driven by Playwright's driver) against the
real servers, with housing, education, employment and privacy running in-process and the
gateway under uvicorn: signing in with a password, the city overview with its charts (and
a screenshot that shows them), German, navigation to a site and a resident, the warning
for a stopped service, a resident's erasure and the page of an erased resident."""

from __future__ import annotations

import re
import struct
import uuid
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright.async_api import Browser, Page, expect

from contracts.queries import GetResidentOverview
from education.plugin import spec as education_spec
from employment.plugin import spec as employment_spec
from gateway.auth import Tokens
from housing.plugin import spec as housing_spec
from im_cli.testing import Servers, eventually
from im_runtime import Answers, ServiceSpec, UnitOfWork
from im_runtime.service import ServiceRuntime
from privacy.plugin import spec as privacy_spec
from support.browser import (
    screenshot,
    serious_violations,
    sign_in,
    user,
    watched_page,
)
from support.city import city, tag

pytestmark = pytest.mark.flow

def png_pixels(data: bytes) -> tuple[int, int, list[bytes]]:
    """Width, height and the RGB(A) rows of an 8-bit non-interlaced PNG (what Chromium writes)."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, header = 8, b"", b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        chunk = data[pos + 8:pos + 8 + length]
        header = chunk if kind == b"IHDR" else header
        idat += chunk if kind == b"IDAT" else b""
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", header)
    assert depth == 8 and colour in (2, 6) and interlace == 0, (depth, colour, interlace)
    bpp = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * bpp
    rows: list[bytes] = []
    prev = bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        for i in range(stride):
            a = line[i - bpp] if i >= bpp else 0
            b, c = prev[i], prev[i - bpp] if i >= bpp else 0
            if kind == 1:
                line[i] = (line[i] + a) & 255
            elif kind == 2:
                line[i] = (line[i] + b) & 255
            elif kind == 3:
                line[i] = (line[i] + (a + b) // 2) & 255
            elif kind == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, [r[i:i + 3] for r in rows for i in range(0, stride, bpp)]


def colour_share(data: bytes, rgb: tuple[int, int, int], tolerance: int = 12) -> tuple[float, int]:
    """The share of pixels close to `rgb`, and how many distinct colours the image has."""
    _, _, pixels = png_pixels(data)
    near = sum(all(abs(p[i] - rgb[i]) <= tolerance for i in range(3)) for p in pixels)
    return near / len(pixels), len(set(pixels))


# ---------------------------------------------------------------- the city and the stack

BAR_BLUE = (0x0B, 0x5C, 0xAD)  # --s1 in app.css: the first series of every chart
LATER = f"mentoring{uuid.uuid4().hex[:4]}"  # a service the dashboard has never heard of


async def mentoring(q: GetResidentOverview, uow: UnitOfWork) -> dict[str, Any]:
    return {"mentors": [{"mentor": "Frau Meyer", "since": "2026-01-10"}], "meetings": 4}


LATER_SPEC = ServiceSpec(name=LATER, version="0.1.0", queries=(
    Answers("resident_overview", GetResidentOverview, mentoring),))


@dataclass
class Dash:
    url: str
    tokens: Tokens
    runtimes: dict[str, ServiceRuntime]
    site: str
    resident: str
    name: str
    erasable: str  # a resident no other test needs
    admin: tuple[str, str]  # a city admin's user name and password
    second: tuple[str, str]  # another city admin (four eyes on erasures)

    def token(self, role: str = "city_admin") -> str:
        return self.tokens.mint(role=role, subject=f"browser-{role}")  # type: ignore[arg-type]


async def seed(url: str, token: str, test_id: str) -> tuple[str, list[str]]:
    """Two sites, three placed residents, a course with a waitlist, a programme phase."""
    site, flat, course, prog = (f"{p}-{test_id}" for p in ("s", "a", "c", "p"))
    async with httpx.AsyncClient(base_url=url, headers={"Authorization": f"Bearer {token}"},
                                 timeout=10) as c:
        async def ok(path: str, body: dict[str, Any]) -> Any:
            r = await c.post(path, json=body)
            assert r.status_code == 200, (path, r.text)
            return r.json()

        await ok("/api/v1/commands/housing/register_site", {
            "site_id": site, "kind": "shelter", "name": "Oststadtkrankenhaus",
            "operator_id": f"op-{test_id}", "address": "Podbielskistraße 1", "district": "List",
            "capacity": 12})
        await ok("/api/v1/commands/housing/register_site", {
            "site_id": flat, "kind": "apartment", "name": "Wohnung Limmerstraße",
            "address": "Limmerstraße 5", "district": "Linden", "capacity": 4})
        residents = []
        for i, (given, family) in enumerate((("Amina", "Haddad"), ("Omid", "Karimi"),
                                             ("Olena", "Bondarenko"))):
            rid = f"r{i}-{test_id}"
            hh = (await ok("/api/v1/residents", {
                "resident_id": rid, "given_name": given, "family_name": family,
                "birth_year": 1988 + i, "languages": ["ar"], "arrival_date": "2025-02-01",
                "residence_status": "recognised_refugee"}))["household_id"]
            await ok(f"/api/v1/households/{hh}/placement",
                     {"site_id": site if i < 2 else flat, "on": date.today().isoformat()})
            residents.append(rid)
        await ok("/api/v1/commands/education/create_course", {
            "course_id": course, "kind": "arrival_course", "title": "Ankommen in Hannover",
            "provider": "operator", "site_id": site, "starts": "2026-03-02",
            "ends": "2026-06-30", "capacity": 1, "status": "running"})
        await ok("/api/v1/commands/employment/create_programme", {
            "programme_id": prog, "name": "Arbeit und Sprache", "providers": ["vhs"],
            "allowed_statuses": ["recognised_refugee"]})
        await ok("/api/v1/commands/employment/add_phase", {
            "programme_id": prog, "phase": 1, "starts": "2026-03-01", "ends": "2026-08-31",
            "capacity": 5, "status": "open"})

        async def known(path: str, body: dict[str, Any]) -> bool:
            return (await c.post(path, json=body)).status_code == 200

        for rid in residents:  # education and employment learn of residents from events
            await eventually(lambda r=rid: known("/api/v1/education/enrolments",
                                                 {"course_id": course, "resident_id": r}), 15)
            await eventually(lambda r=rid: known("/api/v1/employment/participants", {
                "programme_id": prog, "phase": 1, "resident_id": r}), 15)
    return site, residents


@pytest.fixture(scope="module")
async def dash(servers: Servers) -> AsyncIterator[Dash]:
    """A city of its own: its overview counts the whole city, and a test stops a service.
    The gateway checks sessions every 30 s, as by default."""
    test_id = tag()
    specs = (housing_spec, education_spec, employment_spec, privacy_spec, LATER_SPEC)
    async with city(servers, specs, check_seconds=30.0) as c:
        site, residents = await seed(c.url, c.token, test_id)
        admin = await c.user("city_admin", f"browser-admin-{test_id}")
        second = await c.user("city_admin", f"browser-second-{test_id}")
        yield Dash(c.url, Tokens(c.key), c.runtimes, site, residents[0], "Amina Haddad",
                   residents[2], admin, second)


@pytest.fixture
async def page(browser: Browser, dash: Dash) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="en-GB", viewport={"width": 1280, "height": 900})
    p = await context.new_page()
    errors: list[str] = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    p.on("console", lambda m: errors.append(m.text)  # 401, 403 (own approval), 410: tested
         if m.type == "error" and not any(f"status of {s}" in m.text for s in (401, 403, 410))
         else None)
    yield p
    await context.close()
    assert not errors, errors


async def log_in(page: Page, dash: Dash, path: str = "") -> None:
    await sign_in(page, dash.url, *dash.admin, path)


# ---------------------------------------------------------------- the tests

async def test_login_overview_and_charts_that_rendered(page: Page, dash: Dash, tmp_path):
    await page.goto(f"{dash.url}/")  # the URL `make run` prints
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await page.get_by_label("User name").fill(dash.admin[0])
    await page.get_by_label("Password").fill("not the password")
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("alert")).to_contain_text("wrong user name or password")

    await log_in(page, dash)
    await expect(page.get_by_role("heading", name="City overview", level=1)).to_be_visible()
    housing = page.locator('[data-section="housing"]')
    await expect(housing.locator("dt", has_text="Residents").first).to_be_visible()
    await expect(housing).to_contain_text("Residents")
    figures = await housing.locator("dl.figures").inner_text()
    assert "Residents\n3" in figures and "Capacity\n16" in figures, figures
    for chart in ("occupancy", "courses", "phases"):
        bars = page.locator(f'[data-chart="{chart}"] rect.bar')
        assert await bars.count() >= 1, chart
        box = await bars.first.bounding_box()
        assert box and box["width"] > 0 and box["height"] > 0, (chart, box)
    phases = page.locator('[data-chart="phases"]')
    await expect(phases).to_contain_text("Arbeit und Sprache \u2013 phase 1")
    assert await phases.locator('rect.bar[data-value="3"]').count() >= 1  # registered: 3
    await expect(page.locator('[data-chart="occupancy"]')).to_contain_text("Oststadtkrankenhaus")

    assert await serious_violations(page) == []
    shot = await screenshot(page, "overview")
    chart_png = await page.locator('[data-chart="occupancy"] svg').screenshot()
    share, colours = colour_share(chart_png, BAR_BLUE)
    assert share > 0.005 and colours > 4, (share, colours)  # bars drawn, not a blank box
    _, whole = colour_share(shot.read_bytes(), BAR_BLUE)
    assert whole > 20, whole


async def test_german_labels_and_the_choice_is_remembered(page: Page, dash: Dash):
    await log_in(page, dash)
    await expect(page.get_by_role("heading", name="City overview", level=1)).to_be_visible()
    await page.get_by_label("Language").select_option("de")
    await expect(page.get_by_role("heading", name="Stadtübersicht", level=1)).to_be_visible()
    await expect(page.locator("html")).to_have_attribute("lang", "de")
    await expect(page.locator('[data-chart="occupancy"]')).to_contain_text("Belegung je Standort")
    await expect(page.get_by_role("link", name="Standorte")).to_be_visible()
    await page.reload()
    await expect(page.get_by_role("heading", name="Stadtübersicht", level=1)).to_be_visible()


async def test_navigation_to_a_site_and_a_resident(page: Page, dash: Dash, tmp_path):
    await log_in(page, dash)
    await page.get_by_role("navigation", name="Main").get_by_role("link", name="Sites").click()
    await page.get_by_role("link", name="Oststadtkrankenhaus").click()
    await expect(page.get_by_role("heading", name="Site: Oststadtkrankenhaus")).to_be_visible()
    await expect(page.locator('[data-section="education"]')).to_contain_text("Ankommen")
    assert await page.locator('[data-chart="site-courses"] rect.bar').count() >= 2
    await page.get_by_role("link", name="Haddad, Amina").click()
    await expect(page.get_by_role("heading", name=f"Resident: {dash.name}")).to_be_visible()
    for section in ("housing", "education", "employment", LATER):
        await expect(page.locator(f'[data-section="{section}"] h2')).to_be_visible()
    await expect(page.locator(f'[data-section="{LATER}"]')).to_contain_text("Frau Meyer")
    await expect(page.locator('[data-section="employment"]')).to_contain_text("registered")
    assert await page.locator(".warning").count() == 0
    await screenshot(page, "resident")
    assert await serious_violations(page) == []

    await page.get_by_role("link", name="Residents", exact=True).click()
    await page.get_by_label("Name or id").fill("karimi")
    await page.get_by_role("button", name="Search").click()
    await expect(page.get_by_role("link", name="Karimi, Omid")).to_be_visible()
    await expect(page.get_by_role("link", name="Haddad, Amina")).to_have_count(0)


async def test_a_stopped_service_is_named_in_a_warning(page: Page, dash: Dash, tmp_path):
    await dash.runtimes["education"].stop()
    await log_in(page, dash, f"#/residents/{dash.resident}")
    warning = page.get_by_role("alert")
    await expect(warning).to_contain_text("Education")
    await expect(page.locator('[data-section="housing"]')).to_be_visible()
    assert await page.locator('[data-section="education"]').count() == 0
    await screenshot(page, "missing")
    await page.goto(f"{dash.url}/dashboard/#/")
    await expect(page.get_by_role("alert")).to_contain_text("Education")


async def test_a_rejected_token_is_renewed_and_an_ended_session_returns_to_sign_in(
        page: Page, dash: Dash):
    await log_in(page, dash)
    await expect(page.get_by_role("heading", name="City overview", level=1)).to_be_visible()
    await page.evaluate("sessionStorage.setItem('im.token', 'expired')")
    await page.get_by_role("link", name="Sites").click()  # renewed with the refresh cookie
    await expect(page.get_by_role("heading", name="Sites", level=1)).to_be_visible()
    token = await page.evaluate("sessionStorage.getItem('im.token')")
    async with httpx.AsyncClient(base_url=dash.url) as c:  # the session ends elsewhere
        await c.post("/api/auth/logout", headers={"Authorization": f"Bearer {token}"})
    await page.evaluate("sessionStorage.setItem('im.token', 'expired')")
    await page.get_by_role("link", name="Residents").click()
    await expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    await expect(page.get_by_role("alert")).to_contain_text("signed out")


async def test_a_city_admin_requests_an_erasure_another_approves_and_the_page_says_so(
        page: Page, dash: Dash, browser: Browser, tmp_path: Path):
    await log_in(page, dash, f"#/residents/{dash.erasable}")
    await expect(page.get_by_role("heading", name="Resident: Olena Bondarenko")).to_be_visible()
    await page.get_by_role("button", name="Erase this resident's data").click()
    category = page.get_by_label("Category of the erasure")
    await expect(category).to_be_focused()
    await category.select_option(label="Request of the data subject (Art. 17 GDPR)")
    reason = page.get_by_label("Details (optional)")
    await expect(reason).to_have_accessible_description(re.compile("Do not name the person"))
    await reason.fill("asked at the counter on Monday")
    await page.get_by_label("I confirm").check()
    await page.get_by_role("button", name="Request the erasure").click()
    await expect(page.locator(f'[data-awaiting="{dash.erasable}"]')).to_contain_text(
        "Another city administrator must approve it")

    # the requester sees the request but may not approve it
    await page.get_by_role("link", name="Erasures", exact=True).click()
    await expect(page.get_by_role("heading", name="Erasures awaiting approval")).to_be_visible()
    mine = page.locator(f'[data-pending-erasure="{dash.erasable}"]')
    await expect(mine).to_contain_text("asked at the counter on Monday")
    await expect(mine).to_contain_text("Your own request")
    await mine.get_by_role("button", name=f"Approve: {dash.erasable}").click()
    await expect(mine.get_by_role("alert")).to_contain_text("different city administrator")
    assert await serious_violations(page) == []
    await screenshot(page, "pending")
    # nothing is erased yet
    await page.goto(f"{dash.url}/dashboard/#/residents/{dash.erasable}")
    await expect(page.get_by_role("heading", name="Resident: Olena Bondarenko")).to_be_visible()

    # a second city admin approves, in a browser of her own
    async with watched_page(browser) as other:
        await sign_in(other, dash.url, *dash.second, "#/erasures")
        row = other.locator(f'[data-pending-erasure="{dash.erasable}"]')
        await expect(row).to_contain_text(dash.admin[0])
        await row.get_by_role("button", name=f"Approve: {dash.erasable}").click()
        await expect(other.get_by_role("status")).to_contain_text(
            f"the erasure of {dash.erasable} is under way")
        await expect(other.locator(f'[data-pending-erasure="{dash.erasable}"]')).to_have_count(0)

    await page.reload()
    status = page.locator("[data-erasure]")
    await expect(page.get_by_role("heading", name="Data erased", level=1)).to_be_visible()
    await expect(status.get_by_role("heading", name="Erasure")).to_be_visible()
    await expect(status).to_contain_text("Request of the data subject (Art. 17 GDPR)")
    await expect(status).to_contain_text(dash.admin[0])
    await expect(status).to_contain_text(dash.second[0])

    async def confirmed() -> bool:  # the services confirm within moments; reload until shown
        await page.reload()
        await expect(page.get_by_role("heading", name="Data erased", level=1)).to_be_visible()
        # the ledger learns which services must confirm on its own schedule
        expected = await status.get_attribute("data-expected")
        return bool(expected) and all([await page.locator(f'[data-confirmation="{s}"]').count()
                                       for s in ("housing", "employment")])

    await eventually(confirmed, timeout=20, interval=0.3)
    await expect(page.locator(f'[data-erased="{dash.erasable}"]')).to_contain_text(dash.erasable)
    housing = page.locator('[data-confirmation="housing"]')
    await expect(housing.get_by_role("rowheader")).to_have_text("Housing")
    removed, anonymised = (await housing.locator("td").all_inner_texts())[:2]
    assert ":" in removed + anonymised, (removed, anonymised)  # "Residents: 1", …
    assert await page.locator('[data-section="housing"]').count() == 0
    if not dash.runtimes["education"]._ready:  # stopped by an earlier test: it confirms later
        await expect(page.locator("[data-pending]")).to_contain_text("Education")
        await expect(status).to_have_attribute("data-complete", "false")
    await screenshot(page, "erased")


async def test_a_staff_members_erasure_is_requested_from_the_users_page_and_approved(
        page: Page, dash: Dash, browser: Browser, tmp_path: Path):
    seeder = dash.tokens.mint(role="city_admin", subject="seed")
    leaving, _ = await user(dash.url, seeder, "social_worker",
                            f"sw-gone-{uuid.uuid4().hex[:6]}")
    await log_in(page, dash, "#/users")
    await page.get_by_role("link", name=f"Erase: {leaving}").click()
    await expect(page.get_by_role("heading", name=f"Erase the data of staff member {leaving}")
                 ).to_be_visible()
    await page.get_by_role("button", name="Erase this person's data").click()
    await page.get_by_label("Category of the erasure").select_option(label="Other")
    await page.get_by_label("I confirm").check()
    await page.get_by_role("button", name="Request the erasure").click()
    await expect(page.locator(f'[data-awaiting="{leaving}"]')).to_contain_text(
        "Another city administrator must approve it")
    assert await serious_violations(page) == []

    async with watched_page(browser) as other:
        await sign_in(other, dash.url, *dash.second, "#/erasures")
        row = other.locator(f'[data-pending-erasure="{leaving}"]')
        await expect(row).to_contain_text("Staff member")
        await row.get_by_role("button", name=f"Approve: {leaving}").click()
        await expect(other.get_by_role("status")).to_contain_text(
            f"the erasure of {leaving} is under way")
        await other.get_by_role("link", name="Users").click()
        await expect(other.get_by_role("heading", name="User accounts", level=1)).to_be_visible()
        await expect(other.locator(f'[data-user="{leaving}"]')).to_have_count(0)
        await screenshot(other, "staff-erased")
