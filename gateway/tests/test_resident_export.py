"""The right of access (Art. 15 GDPR) end to end, with the real servers and every installed
service: a city administrator exports everything held about a resident, as one JSON
document with a section from every service that holds something (found independently by
the privacy report) and the reads of their data, and as a page in German and English that
a headless browser opens; the export is audited; others are refused, bad input answered
with a clear error."""

from __future__ import annotations

import secrets
import uuid
from collections.abc import AsyncIterator
from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import operator as op
from contracts import subjects as subj
from contracts import wrap
from gateway.app import create_app
from gateway.auth import Tokens
from gateway.config import GatewayConfig
from im_cli.privacy import build_report
from im_cli.testing import eventually
from im_runtime.plugins import installed
from support.browser import http_server, launched, serious_violations
from support.world import Family, World, family, ok, own_world

pytestmark = pytest.mark.flow


@pytest.fixture(scope="module")
async def world(kit: Any) -> AsyncIterator[World]:
    async for w in own_world(kit, installed()):
        yield w


@pytest.fixture(scope="module")
async def person(world: World) -> Family:
    """A parent known to housing, education, employment, counselling (a case note) and plans."""
    w, tag = world, uuid.uuid4().hex[:8]
    f = await family(w, tag)
    await ok(await w.gw.post("/api/v1/commands/education/create_course", {
        "course_id": f"c-{tag}", "kind": "arrival_course", "title": "Ankommen",
        "provider": "operator", "site_id": f.site, "starts": "2026-01-05",
        "ends": "2026-12-18", "capacity": 12}))

    async def enrolled() -> bool:
        r = await w.gw.post("/api/v1/education/enrolments",
                            {"course_id": f"c-{tag}", "resident_id": f.parent})
        return r.status_code == 200

    await eventually(enrolled, timeout=20, interval=0.2)

    async def coached() -> bool:
        r = await w.gw.post("/api/v1/employment/coaching", {
            "resident_id": f.parent, "topic": "applications", "on": "2026-03-01"})
        return r.status_code == 200

    await eventually(coached, timeout=20, interval=0.2)
    note = wrap(op.CaseNoteRecorded(resident_id=f.parent, site_id=f.site, note_id=f"n-{tag}",
                                    written_on=date(2026, 3, 2), text=f"Note {tag}"),
                source=f"op-{tag}")
    await w.nc.jetstream().publish(
        subj.operator_event(f"op-{tag}", "case_note_recorded", f.parent),
        msgspec.json.encode(note), headers={"Nats-Msg-Id": note.id})
    assert (await w.gw.get(f"/api/v1/residents/{f.parent}")).status_code == 200  # a read
    return f


async def holders(w: World, resident: str) -> set[str]:
    """The services whose databases mention the resident, by their own search."""
    rep = await build_report(w.nc, resident, [], timeout=1.5)
    return {name for name, found in rep.services.items() if found}


async def test_the_export_holds_every_services_section_and_the_reads(
        world: World, person: Family) -> None:
    w, f = world, person
    await eventually(lambda: _holding(w, f.parent), timeout=30, interval=0.5)
    expected = await holders(w, f.parent)
    r = await w.gw.get(f"/api/v1/residents/{f.parent}/export")
    assert r.status_code == 200, r.text
    export = r.json()
    assert export["resident_id"] == f.parent and not export["missing"]
    sections = export["sections"]
    assert expected - {"gateway"} <= set(sections), (expected, sorted(sections))
    (me,) = sections["housing"]["collections"]["residents"]
    assert me["given_name"] == "Par" + f.family_name[3:]
    assert me["phone"] == "+49 511 1234567"
    assert sections["education"]["collections"]["enrolments"]
    assert sections["employment"]["collections"]["coaching"]
    (text,) = [n["text"] for n in sections["counselling"]["collections"]["notes"]]
    assert text.startswith("Note ")
    assert any(e["action"] == "resident_overview"
               for e in sections["gateway"]["collections"]["audit"])
    # no one else's record: the child's registry entry is not in the parent's export
    assert f.child not in {d["_id"] for d in sections["housing"]["collections"]["residents"]}
    # housing's own hook (spec export=): the household, its members named
    (hh,) = sections["housing"]["collections"]["households"]
    assert hh["_id"] == f.household
    tag = f.family_name[3:]
    assert sorted((m["resident_id"], m["given_name"]) for m in hh["members"]) == sorted(
        [(f.parent, f"Par{tag}"), (f.child, f"Kid{tag}")])
    # the export itself is audited
    audit = (await w.gw.get(f"/api/v1/audit?resident={f.parent}", role="auditor")).json()
    assert any(e["action"] == "resident_export" for e in audit["items"])


async def _holding(w: World, resident: str) -> bool:
    return {"housing", "education", "employment", "counselling"} <= await holders(w, resident)


@pytest.mark.parametrize(("role", "path", "status"), [
    ("social_worker", "", 403), ("operator", "", 403), ("auditor", "", 403),
    ("city_admin", "?lang=fr", 400), ("city_admin", "?format=pdf", 400),
])
async def test_the_export_is_refused_unless_a_city_admin_asks_properly(
        world: World, person: Family, role: str, path: str, status: int) -> None:
    claims: dict[str, Any] = {"operator": "op-x"} if role == "operator" else {}
    r = await world.gw.get(f"/api/v1/residents/{person.parent}/export{path}", role=role,
                           headers=world.gw.auth(role, **claims))
    assert r.status_code == status, r.text


async def test_an_unknown_resident_or_a_bad_id_is_answered_clearly(world: World) -> None:
    r = await world.gw.get(f"/api/v1/residents/r-{uuid.uuid4().hex[:10]}/export")
    assert r.status_code == 404 and r.json()["code"] == "not_found", r.text
    bad = await world.gw.get("/api/v1/residents/r.1*/export")
    assert bad.status_code in (400, 404), bad.text
    assert (await world.gw.client.get("/api/v1/residents/r-1/export")).status_code == 401


async def test_the_export_page_reads_in_german_and_english_in_a_browser(
        world: World, person: Family) -> None:
    w, f = world, person
    cfg = GatewayConfig(key=secrets.token_bytes(32), deadline=1.0, discovery_ttl=0.2,
                        discovery_timeout=0.2, forget_after=600.0)
    token = Tokens(cfg.key).mint(role="city_admin", subject="admin-export")
    async with http_server(create_app(w.settings, cfg)) as url, launched() as browser:
        context = await browser.new_context(
            extra_http_headers={"Authorization": f"Bearer {token}"})
        page = await context.new_page()
        for lang, title in (("de", "Auskunft über gespeicherte Daten (Art. 15 DSGVO)"),
                            ("en", "Access to personal data (Art. 15 GDPR)")):
            async def shown(lang: str = lang, title: str = title) -> bool:
                await page.goto(f"{url}/api/v1/residents/{f.parent}/export?format=html"
                                f"&lang={lang}")
                return await page.get_by_role("heading", name=title).count() == 1

            await eventually(shown, timeout=15, interval=0.5)
            assert await page.locator("html").get_attribute("lang") == lang
            for service in ("housing", "education", "employment", "counselling"):
                assert await page.get_by_role("heading", name=service, exact=True).count() == 1
            body = await page.locator("main").inner_text()
            assert f.parent in body and "+49 511 1234567" in body
            assert await serious_violations(page) == []
        await context.close()
