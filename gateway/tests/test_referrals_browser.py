"""The city team answers operators' referrals in headless Chromium against the real
servers (housing and counselling in the shared city, the gateway under uvicorn): an operator's
system sends referrals on its subjects; a social worker finds those of her sites waiting
for the city team, opens one, answers it (a rejection without a reason is refused at the
field and changes nothing), sees its trail grow and the worklist change; the operator's
feedback subjects carry each answer. Referrals of other sites stay out of her reach."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest
from playwright.async_api import Browser, Page, expect

from contracts import operator as op
from contracts import subjects as subj
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
    operator: str
    sites: tuple[str, str]  # hers, and one elsewhere
    worker: tuple[str, str]
    feedback: list[dict[str, Any]] = field(default_factory=list)

    async def refer(self, resident: str, site: str, topic: str, days_ago: int) -> str:
        """The operator's system sends a referral, as its own counselling would."""
        referral = f"rf-{uuid.uuid4().hex[:8]}"
        await self.city.publish(self.operator, op.OperatorReferralRequested(
            resident_id=resident, site_id=site, referral_id=referral, topic=topic,
            requested_on=date.today() - timedelta(days=days_ago)), resident)
        return referral

    def heard(self, referral: str) -> list[tuple[str, str]]:
        return [(f["type"].split(".")[2], f["data"].get("by", "")) for f in self.feedback
                if f["data"].get("referral_id") == referral]


@pytest.fixture(scope="module")
async def stack(shared_city: City) -> AsyncIterator[Stack]:
    test_id = tag()
    s = Stack(shared_city, f"op-{test_id}", (f"m-{test_id}", f"x-{test_id}"),
              await shared_city.user("social_worker"))

    async def heard(msg: Any) -> None:
        s.feedback.append(msgspec.json.decode(msg.data))
    sub = await s.nc.jetstream().subscribe(subj.feedback_of(s.operator), cb=heard,
                                           ordered_consumer=True)
    for site, name in zip(s.sites, ("Munzeler Straße", "Oststadtkrankenhaus"), strict=True):
        await s.command("housing", "register_site", {
            "site_id": site, "kind": "shelter", "name": name, "operator_id": s.operator,
            "address": f"{name} 1", "district": "List", "capacity": 30})
    await s.command("housing", "assign_staff", {
        "staff_id": s.worker[0], "name": "Jana Kowalski", "site_ids": [s.sites[0]]})
    yield s
    await sub.unsubscribe()


@pytest.fixture
async def page(browser: Browser, stack: Stack) -> AsyncIterator[Page]:
    async with signed_in(browser, stack.city, stack.worker) as p:
        yield p


async def test_the_city_team_answers_a_referral_and_the_operator_hears_it(
        page: Page, stack: Stack, tmp_path: Path):
    here, elsewhere = stack.sites
    first = await stack.refer("r-amal", here, "authorities", days_ago=9)
    second = await stack.refer("r-omid", here, "neighbourhood", days_ago=2)
    other = await stack.refer("r-samir", elsewhere, "authorities", days_ago=5)

    async def taken() -> bool:
        return len([f for f in stack.feedback if f["type"].endswith("referral_received.v1")]) == 3
    await eventually(taken, timeout=20, interval=0.1)

    nav = page.get_by_role("navigation", name="Main")
    await nav.get_by_role("link", name="Referrals").click()
    await expect(page.get_by_role("heading", name="Referrals", level=1)).to_be_focused()
    rows = page.locator("tr[data-referral]")
    await expect(rows).to_have_count(2)  # hers, the oldest first; not the other site's
    await expect(rows.first).to_have_attribute("data-referral", first)
    await expect(rows.first).to_contain_text("9 days ago")
    await expect(page.locator(f'tr[data-referral="{other}"]')).to_have_count(0)
    assert await serious_violations(page) == []

    await rows.first.get_by_role("link", name="authorities").click()
    await expect(page.get_by_role("heading", name="Referral: authorities", level=1)).to_be_visible()
    await expect(page.locator("[data-trail]")).to_have_attribute("data-trail", "1")
    form = page.locator('[data-form="answer"]')
    send = form.get_by_role("button", name="Send answer")
    await send.click()
    await refused(page, "answer", "answer", "This field is required.")
    await form.get_by_label("Answer", exact=True).select_option("rejected")
    await send.click()
    await refused(page, "answer", "reason", "A rejection needs a reason")
    referral = await stack.command("counselling", "get_referral", {"referral_id": first})
    assert referral["referral"]["state"] == "requested"  # nothing changed
    await form.get_by_label("Reason").fill("x" * 601)
    await send.click()
    await refused(page, "answer", "reason", "At most 500 characters.")
    assert await serious_violations(page) == []

    await form.get_by_label("Answer", exact=True).select_option("accepted")
    await form.get_by_label("Reason").fill("")
    await form.get_by_label("Reference").fill("Termin Bürgeramt 12.3.")
    await send.click()
    await expect(page.get_by_role("status")).to_contain_text("the referral is accepted")
    await expect(page.locator("[data-trail]")).to_have_attribute("data-trail", "2")
    await expect(page.locator("[data-trail]")).to_contain_text("Termin Bürgeramt 12.3.")
    # only completing is left
    options = page.locator('[data-form="answer"] select[name="answer"] option')
    await expect(options).to_have_text(["\u2013 choose \u2013", "completed"])
    await page.locator('[data-form="answer"]').get_by_label("Answer", exact=True).select_option(
        "completed")
    await page.locator('[data-form="answer"]').get_by_label("Outcome").fill("Pass beantragt")
    await page.locator('[data-form="answer"]').get_by_role("button", name="Send answer").click()
    await expect(page.get_by_role("status")).to_contain_text("the referral is completed")
    await expect(page.locator('[data-form="answer"]')).to_have_count(0)
    await screenshot(page, "referral")

    async def answered() -> bool:
        return stack.heard(first) == [("referral_received", ""), ("referral_accepted", "city_team"),
                                      ("referral_completed", "city_team")]
    await eventually(answered, timeout=20, interval=0.1)

    # the worklist: one left waiting; the answered one among the completed
    await nav.get_by_role("link", name="Referrals").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-referral", second)
    await page.get_by_label("State").select_option("completed")
    await page.get_by_role("button", name="Show").click()
    await expect(rows).to_have_count(1)
    await expect(rows.first).to_have_attribute("data-referral", first)

    # the other site's referral is not hers to read or answer
    worker = Tokens(stack.key).mint(role="social_worker", subject=stack.worker[0],
                                    sites=(here,))
    for command, body in (("get_referral", {"referral_id": other}),
                          ("answer_city_referral", {"referral_id": other,
                                                    "answer": "accepted"}),
                          ("list_referrals", {"site_id": elsewhere})):
        r = await stack.call(f"/api/v1/commands/counselling/{command}", body, worker)
        assert r.status_code == 403, (command, r.text)
    for command, body in (("list_referrals", {"limit": 0}), ("list_referrals", {"state": "x"}),
                          ("get_referral", {"referral_id": "a b"}), ("get_referral", {})):
        r = await stack.call(f"/api/v1/commands/counselling/{command}", body, worker)
        assert r.status_code == 400, (command, body, r.text)
    provider = Tokens(stack.key).mint(role="provider", subject="p", provider="vhs")
    r = await stack.call("/api/v1/commands/counselling/list_referrals", {}, provider)
    assert r.status_code == 403
    auditor = Tokens(stack.key).mint(role="auditor", subject="a")
    r = await stack.call("/api/v1/audit?resident=r-amal", token=auditor)
    assert "counselling.get_referral" in {e["action"] for e in r.json()["items"]}
