"""The headless browser for the dashboard's tests: Debian's chromium driven by
Playwright's driver (never `playwright install`), the gateway under uvicorn on a free
port, and signing in as a person would."""

from __future__ import annotations

import asyncio
import contextlib
import os
import shutil
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import uvicorn
from litestar import Litestar

from im_cli.embedded import free_port

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
INSTALL = "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium"


def chromium() -> tuple[Path | None, str]:
    """The browser, installing it from apt when it is missing and we may (`make test` does
    the same first); else None and why not."""
    if CHROMIUM.exists():
        return CHROMIUM, ""
    if not shutil.which("apt-get"):
        return None, "no /usr/bin/chromium and no apt-get to install it"
    if os.geteuid() != 0:
        return None, f"no /usr/bin/chromium, and installing it needs root: sudo sh -c '{INSTALL}'"
    done = subprocess.run(["sh", "-c", INSTALL], capture_output=True, text=True, timeout=600)
    if done.returncode != 0 or not CHROMIUM.exists():
        return None, f"installing chromium failed ({done.returncode}): {done.stderr[-500:]}"
    return CHROMIUM, ""


def browser_or_skip() -> Path:
    import pytest

    path, why = chromium()
    if path is None:
        if os.environ.get("CI") or os.environ.get("IM_REQUIRE_BROWSER") == "1":
            pytest.fail(f"the browser test must run on CI: {why}")
        print(f"\nskipping the dashboard browser test: {why}")
        pytest.skip(why)
    return path


@contextlib.asynccontextmanager
async def http_server(app: Litestar) -> AsyncIterator[str]:
    """The app under uvicorn on a free port of 127.0.0.1, lifespan included."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, lifespan="on",
                                           log_level="warning", access_log=False))
    task = asyncio.create_task(server.serve())
    try:
        for _ in range(300):
            if server.started or task.done():
                break
            await asyncio.sleep(0.05)
        if task.done():
            task.result()
        assert server.started, "uvicorn did not start"
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@contextlib.asynccontextmanager
async def launched(path: Path | None = None) -> AsyncIterator[Any]:
    """Headless chromium (at `path`, or found or installed by `browser_or_skip`), closed
    on exit: what each browser test module's `browser` fixture yields."""
    from playwright.async_api import async_playwright, expect

    # A sign-in hashes with argon2 (~0.1 s of CPU) and a page waits for several services:
    # on a machine shared by many test runs, Playwright's 5 s default failed while the
    # page was merely slow. A real failure still fails, 15 s later.
    expect.set_options(timeout=15_000)
    path = path or browser_or_skip()
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=str(path), args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def user(url: str, admin_token: str, role: str, username: str | None = None,
               **extra: Any) -> tuple[str, str]:
    """An account created by the city admin, its one-time password already replaced:
    (username, password)."""
    username = username or f"{role[:2]}-{uuid.uuid4().hex[:8]}"
    async with httpx.AsyncClient(base_url=url, timeout=10) as c:
        r = await c.post("/api/v1/users", headers={"Authorization": f"Bearer {admin_token}"},
                         json={"username": username, "role": role, "name": f"Test {role}",
                               **extra})
        assert r.status_code == 201, r.text
        password = f"pw-{uuid.uuid4().hex}"
        r = await c.post("/api/auth/password", json={
            "username": username, "password": r.json()["password"], "new_password": password})
        assert r.status_code == 200, r.text
    return username, password


async def sign_in(page: Any, url: str, username: str, password: str, path: str = "") -> None:
    await page.goto(f"{url}/dashboard/{path}")
    await page.get_by_label("User name").fill(username)
    await page.get_by_label("Password").fill(password)
    await page.get_by_role("button", name="Sign in").click()


async def serious_violations(page: Any) -> list[str]:
    """axe-core's serious and critical findings on the page as it is now (WCAG 2.1 A/AA
    rules), one line each: rule, impact, the elements."""
    from axe_playwright_python.async_playwright import Axe

    results = await Axe().run(page, options={"resultTypes": ["violations"], "runOnly": {
        "type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}})
    return [f"{v['id']} ({v['impact']}): {v['help']} at "
            f"{', '.join(str(n['target']) for n in v['nodes'][:5])}"
            for v in results.response["violations"] if v["impact"] in ("serious", "critical")]


@contextlib.asynccontextmanager
async def watched_page(browser: Any, tolerated: tuple[int, ...] = (400, 401, 403, 404, 409),
                       kinds: tuple[str, ...] = ("error", "warning"),
                       **context: Any) -> AsyncIterator[Any]:
    """A page in a context of its own (English, 1280 by 1000 unless `context` says otherwise)
    that fails the test at the end if a script raised or the console logged a message of
    `kinds`, apart from the refused requests (`tolerated` statuses) a test provokes."""
    ctx = await browser.new_context(**{"locale": "en-GB",
                                       "viewport": {"width": 1280, "height": 1000}, **context})
    page = await ctx.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("console", lambda m: errors.append(m.text) if m.type in kinds and not
            any(f"status of {s}" in m.text for s in tolerated) else None)
    try:
        yield page
    finally:
        await ctx.close()
    assert not errors, errors


# Screenshots of every page a browser test shows, kept where CI keeps the workspace
# (`.ci/run` names the folder): var/screenshots/<test module>/<test>-<page>.png.
SCREENSHOTS = Path(__file__).resolve().parents[2] / "var" / "screenshots"


def screenshot_path(page_name: str, test: str | None = None) -> Path:
    """Where the running test's screenshot of `page_name` goes (the test from pytest's
    PYTEST_CURRENT_TEST: `path/test_mod.py::test_name (call)`)."""
    test = test or os.environ.get("PYTEST_CURRENT_TEST", "unknown::unknown").split(" ")[0]
    module, _, name = test.partition("::")
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "-" for ch in f"{name}-{page_name}")
    folder = Path(os.environ.get("IM_SCREENSHOTS") or SCREENSHOTS) / Path(module).stem
    folder.mkdir(parents=True, exist_ok=True)
    return folder / f"{safe}.png"


async def screenshot(page: Any, page_name: str) -> Path:
    """Keep a full-page screenshot of the page as it is now; returns the file."""
    path = screenshot_path(page_name)
    await page.screenshot(path=str(path), full_page=True)
    return path


async def refused(page: Any, form: str, name: str, reason: str) -> None:
    """The form's field is marked invalid, focused, and described by the reason."""
    from playwright.async_api import expect

    control = page.locator(f"#{form}-{name}")
    await expect(control).to_have_attribute("aria-invalid", "true")
    await expect(control).to_be_focused()
    await expect(page.locator(f"#{form}-{name}-error")).to_contain_text(reason)
