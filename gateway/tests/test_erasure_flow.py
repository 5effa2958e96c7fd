"""Erasure end to end, with the real servers and every installed service: a resident with
data in housing, education, employment, counselling (including a free-text case note
naming them) and volunteers is erased through the gateway while education is stopped;
every other service confirms at once, education when it comes back; then a scan of
every service's database and of every message of every stream finds neither the id
nor the name, the city's figures are unchanged, and the gateway answers 410.

This module runs its own nats-server and MongoDB-wire server: an erasure waits for
every durable consumer of erasure requests, and in the shared test servers other
modules leave consumers of services that are no longer running."""

from __future__ import annotations

import json
import random
import string
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import msgspec
import nats
import pytest
from pymongo import AsyncMongoClient

from contracts import operator as op
from contracts import subjects as subj
from contracts import wrap
from im_cli.embedded import throwaway_servers
from im_cli.privacy import build_report
from im_cli.testing import Servers, eventually, stream_events
from im_runtime.plugins import installed
from im_runtime.service import ServiceRuntime
from support.erasure import request_and_approve

pytestmark = pytest.mark.flow
SERVICES = ("housing", "education", "employment", "counselling", "volunteers")


@pytest.fixture(scope="module")
def own_servers() -> Iterator[Servers]:
    with throwaway_servers("im-erasure-") as (natsd, mongod):
        yield Servers(natsd.url, mongod.url, natsd.workdir)


@dataclass
class World:
    gw: Any
    settings: Any
    runtimes: dict[str, ServiceRuntime]
    nc: Any

    async def restart(self, name: str) -> None:
        rt = ServiceRuntime(installed()[name], self.settings)
        await rt.start()
        self.runtimes[name] = rt


@pytest.fixture(scope="module")
async def world(own_servers: Servers, kit: Any) -> AsyncIterator[World]:
    settings = kit.settings_for(own_servers)
    specs = installed()  # every installed service, plugins included
    assert {*SERVICES, "privacy"} <= set(specs)
    nc = await nats.connect(own_servers.nats_url)
    async with kit.running(*specs.values(), settings=settings) as rts, \
            kit.gateway_for(settings) as gw:
        world = World(gw, settings, {rt.spec.name: rt for rt in rts}, nc)
        yield world
        for rt in world.runtimes.values():
            if rt._ready and rt not in rts:
                await rt.stop()
    await nc.close()


def a_name() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=10)).capitalize()


@dataclass
class Person:
    resident: str
    household: str
    family_name: str
    given_name: str
    site: str
    operator: str


async def ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 202), response.text
    return dict(response.json())


async def resident_everywhere(w: World) -> Person:
    """One resident with data in every service, through the API and operator events."""
    gw, tag = w.gw, uuid.uuid4().hex[:8]
    site, operator = f"s-{tag}", f"op-{tag}"
    await ok(await gw.post("/api/v1/commands/housing/register_site", {
        "site_id": site, "kind": "shelter", "name": "Munzeler Straße", "operator_id": operator,
        "address": "Munzeler Straße 1", "district": "Bothfeld", "capacity": 40}))
    family, given = a_name(), a_name()
    person = await ok(await gw.post("/api/v1/residents", {
        "given_name": given, "family_name": family, "birth_year": 1991, "languages": ["ar"],
        "residence_status": "recognised_refugee", "arrival_date": "2025-02-01",
        "phone": "+49 511 1234567"}))
    rid, household = person["resident_id"], person["household_id"]
    # a housemate, who must keep everything
    await ok(await gw.post("/api/v1/residents", {
        "household_id": household, "given_name": a_name(), "family_name": family,
        "birth_year": 2015, "residence_status": "recognised_refugee",
        "arrival_date": "2025-02-01"}))
    await ok(await gw.post(f"/api/v1/households/{household}/placement",
                           {"site_id": site, "on": date.today().isoformat()}))
    await ok(await gw.post("/api/v1/commands/education/create_course", {
        "course_id": f"c-{tag}", "kind": "arrival_course", "title": "Ankommen in Hannover",
        "provider": "operator", "site_id": site, "starts": "2026-01-05", "ends": "2026-12-18",
        "capacity": 12}))

    async def enrolled() -> bool:  # education learns of the resident from housing's events
        r = await gw.post("/api/v1/education/enrolments",
                          {"course_id": f"c-{tag}", "resident_id": rid})
        return r.status_code == 200

    await eventually(enrolled, timeout=20, interval=0.2)

    async def coached() -> bool:
        r = await gw.post("/api/v1/employment/coaching", {
            "resident_id": rid, "topic": "applications", "on": "2026-03-01"})
        return r.status_code == 200

    await eventually(coached, timeout=20, interval=0.2)
    await ok(await gw.post("/api/v1/commands/volunteers/register_volunteer", {
        "volunteer_id": f"v-{tag}", "name": "Ehrenamt Bothfeld", "languages": ["ar"],
        "districts": ["Bothfeld"], "offers": ["accompaniment"], "capacity": 2}))
    # The operator's own system reports a session, a note naming the person, a referral.
    for data in (
        op.SessionRecorded(resident_id=rid, site_id=site, session_id=f"se-{tag}",
                           category="authorities", held_on=date(2026, 3, 2),
                           duration_minutes=45, counsellor="cw-17"),
        op.CaseNoteRecorded(resident_id=rid, site_id=site, note_id=f"n-{tag}",
                            written_on=date(2026, 3, 2),
                            text=f"{given} {family} asked about the Jobcenter letter."),
        op.OperatorReferralRequested(resident_id=rid, site_id=site, referral_id=f"rf-{tag}",
                             topic="volunteers", requested_on=date(2026, 3, 2)),
    ):
        event = wrap(data, source=operator)
        name = type(data).__struct_config__.tag.split(".")[2]  # type: ignore[union-attr]
        await w.nc.jetstream().publish(subj.operator_event(operator, name, rid),
                                       msgspec.json.encode(event),
                                       headers={"Nats-Msg-Id": event.id})
    return Person(rid, household, family, given, site, operator)


async def sections(w: World, rid: str) -> dict[str, Any]:
    r = await w.gw.get(f"/api/v1/residents/{rid}")
    return dict(r.json().get("sections", {})) if r.status_code == 200 else {}


async def figures(w: World) -> dict[str, Any]:
    stats = (await w.gw.get("/api/v1/stats")).json()["sections"]
    return {name: stats.get(name) for name in SERVICES}


async def database_mentions(w: World, terms: list[str]) -> list[str]:
    """Every document of every database of this test's services mentioning a term."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(w.settings.mongo_url)
    found = []
    try:
        for db_name in await client.list_database_names():
            if not db_name.startswith(w.settings.db_prefix):
                continue
            db = client[db_name]
            for coll in await db.list_collection_names():
                async for doc in db[coll].find({}):
                    text = json.dumps(doc, default=str)
                    found += [f"{db_name}.{coll}/{doc['_id']}" for t in terms if t in text]
    finally:
        await client.close()
    return found


async def test_an_erasure_reaches_every_service_and_leaves_no_trace(world: World) -> None:
    w = world
    p = await resident_everywhere(w)
    # The family name is the housemate's too: the person's own name is the given name.
    terms = [p.resident, p.given_name]

    async def known_everywhere() -> bool:
        got = await sections(w, p.resident)
        return all(got.get(s) for s in SERVICES)

    await eventually(known_everywhere, timeout=30, interval=0.3)
    before = await report_until(w, terms, lambda rep: set(SERVICES) <= set(rep.services)
                                and all(rep.services[s] for s in SERVICES))
    assert any(before.streams.values()), "the resident's events should be on the bus"
    stats_before = await figures(w)
    assert await database_mentions(w, terms)

    # education is down when the erasure is approved
    await w.runtimes["education"].stop()
    # The free text goes once the erasure is complete: a distinct text to look for.
    note = f"asked in person at the office {uuid.uuid4().hex[:12]}"
    asked = await w.gw.post(f"/api/v1/residents/{p.resident}/erasure",
                            {"category": "subject_request", "reason": note},
                            headers=w.gw.auth("city_admin", subject="admin-anna"))
    assert asked.status_code == 202, asked.text
    assert asked.json()["state"] == "awaiting_approval"
    # until a second city admin approves, nothing is erased
    assert (await w.gw.get(f"/api/v1/residents/{p.resident}")).status_code == 200
    own = await w.gw.post(f"/api/v1/residents/{p.resident}/erasure/approve", None,
                          headers=w.gw.auth("city_admin", subject="admin-anna"))
    assert own.status_code == 403 and "different city administrator" in own.text, own.text
    r = await w.gw.post(f"/api/v1/residents/{p.resident}/erasure/approve", None,
                        headers=w.gw.auth("city_admin", subject="admin-ben"))
    assert r.status_code == 202, r.text
    assert (r.json()["requested_by"], r.json()["approved_by"]) == ("admin-anna", "admin-ben")
    assert (await w.gw.get(f"/api/v1/residents/{p.resident}")).status_code == 410

    async def status() -> dict[str, Any]:
        r = await w.gw.get(f"/api/v1/residents/{p.resident}/erasure", role="auditor")
        assert r.status_code == 200, r.text
        return dict(r.json())

    async def all_but_education() -> dict[str, Any] | None:
        s = await status()
        return s if s["pending"] == ["education"] else None

    waiting = await eventually(all_but_education, timeout=30, interval=0.3)
    assert (waiting["category"], waiting["reason"]) == ("subject_request", note)
    assert set(SERVICES) | {"privacy"} <= set(waiting["expected"])
    assert not waiting["complete"]
    confirmed = {c["service"]: c for c in waiting["confirmations"]}
    assert confirmed["housing"]["removed"] or confirmed["housing"]["anonymised"]
    assert confirmed["counselling"]["removed"]
    assert any(pg["messages"] for pg in waiting["purges"]), "the first purge removed nothing"

    await w.restart("education")  # its durable consumer still holds the request
    done = await eventually(lambda: _complete(status), timeout=30, interval=0.3)
    assert {c["service"] for c in done["confirmations"]} >= set(SERVICES)
    assert done["completed_at"] and not done["pending"]
    assert done["category"] == "subject_request" and done["reason"] is None

    # nothing left: the services' own answers, every message of every stream, every document
    after = await build_report(w.nc, p.resident, [p.given_name, note], timeout=2.0, deep=True)
    assert not any(after.services.values()), after.services
    assert not any(after.streams.values()), after.streams
    assert not any(after.messages.values()), after.messages
    assert not after.silent, after.silent
    assert await database_mentions(w, [*terms, note]) == []
    # anonymous counts stay
    assert await figures(w) == stats_before
    # the audit log keeps the reads, no longer naming the resident
    r = await w.gw.get(f"/api/v1/audit?resident={p.resident}", role="auditor")
    entries = r.json()["items"]
    assert entries and all(e["resident_id"] != p.resident for e in entries)
    # and the housemate is untouched
    mate = (await w.gw.get(f"/api/v1/residents?q={p.family_name}")).json()
    assert mate["total"] == 1 and mate["items"][0]["given_name"] != p.given_name


async def _complete(status: Any) -> dict[str, Any] | None:
    s = await status()
    return s if s["complete"] else None


async def report_until(w: World, terms: list[str], good: Any) -> Any:
    async def attempt() -> Any:
        rep = await build_report(w.nc, terms[0], terms[1:], timeout=1.5)
        return rep if good(rep) else None
    return await eventually(attempt, timeout=30, interval=0.5)


async def test_an_erased_resident_is_gone_for_reads_and_commands(world: World) -> None:
    w = world
    p = await resident_everywhere(w)
    r = await request_and_approve(w.gw, p.resident)
    again = await w.gw.post(f"/api/v1/residents/{p.resident}/erasure",
                            {"category": "other", "reason": "twice"})
    assert again.status_code == 202 and again.json()["erasure_id"] == r["erasure_id"]
    assert again.json()["state"] == "approved"
    for role in ("city_admin", "social_worker"):
        got = await w.gw.get(f"/api/v1/residents/{p.resident}", role=role,
                             headers=w.gw.auth(role, sites=[p.site]))
        assert got.status_code == 410, got.text
        assert got.json()["code"] == "gone"
    coaching = await w.gw.post("/api/v1/employment/coaching", {
        "resident_id": p.resident, "topic": "applications", "on": "2026-03-05"})
    assert coaching.status_code == 410, coaching.text


ASK = {"category": "subject_request", "reason": "Art. 17 GDPR"}


@pytest.mark.parametrize(("role", "body", "status"), [
    ("social_worker", ASK, 403),
    ("operator", ASK, 403),
    ("provider", ASK, 403),
    ("auditor", ASK, 403),
    ("city_admin", {}, 400),
    ("city_admin", {"reason": "Art. 17 GDPR"}, 400),  # no category
    ("city_admin", {"category": "because"}, 400),
    ("city_admin", {"category": None}, 400),
    ("city_admin", {"category": "other", "reason": 17}, 400),
    ("city_admin", {"category": "other", "reason": "x"}, 400),
    ("city_admin", {"category": "other", "reason": "x" * 501}, 400),
    ("city_admin", {**ASK, "extra": True}, 400),
    ("city_admin", ["not", "an", "object"], 400),
])
async def test_erasure_requests_are_refused_unless_valid_and_by_a_city_admin(
        world: World, role: str, body: Any, status: int) -> None:
    rid = f"r-{uuid.uuid4().hex[:10]}"
    claims: dict[str, Any] = {"operator": "op-x"} if role == "operator" else (
        {"provider": "pr-x"} if role == "provider" else {})
    r = await world.gw.post(f"/api/v1/residents/{rid}/erasure", body, role=role,
                            headers=world.gw.auth(role, **claims))
    assert r.status_code == status, r.text
    # nothing was requested
    s = await world.gw.get(f"/api/v1/residents/{rid}/erasure")
    assert s.status_code == 404, s.text


async def test_a_rejected_request_leaves_the_resident_and_the_pending_list(
        world: World) -> None:
    w = world
    p = await resident_everywhere(w)
    base = f"/api/v1/residents/{p.resident}/erasure"
    asked = await w.gw.post(base, {"category": "consent_withdrawn"})
    assert asked.status_code == 202 and asked.json()["state"] == "awaiting_approval"
    listed = await w.gw.get("/api/v1/erasures/pending", role="auditor")
    assert listed.status_code == 200, listed.text
    mine = [e for e in listed.json()["pending"] if e["resident_id"] == p.resident]
    assert [(e["category"], e["reason"]) for e in mine] == [("consent_withdrawn", None)]
    # the list names residents: the read is audited
    audited = (await w.gw.get(f"/api/v1/audit?resident={p.resident}", role="auditor")).json()
    assert any(e["action"] == "pending_erasures" for e in audited["items"])
    for role in ("social_worker", "auditor", "operator"):
        claims: dict[str, Any] = {"operator": "op-x"} if role == "operator" else {}
        for step in ("approve", "reject"):
            refused = await w.gw.post(f"{base}/{step}", None,
                                      headers=w.gw.auth(role, **claims))
            assert refused.status_code == 403, (role, step, refused.text)
    assert (await w.gw.get("/api/v1/erasures/pending", role="social_worker")).status_code == 403
    no = await w.gw.post(f"{base}/reject", None)
    assert no.status_code == 200 and no.json()["state"] == "rejected", no.text
    assert (await w.gw.get(f"/api/v1/residents/{p.resident}")).status_code == 200
    assert (await w.gw.get(base)).status_code == 404
    assert (await w.gw.post(f"{base}/approve", None)).status_code == 404
    listed = (await w.gw.get("/api/v1/erasures/pending")).json()["pending"]
    assert p.resident not in [e["resident_id"] for e in listed]
    # an approved erasure cannot be stopped
    await request_and_approve(w.gw, p.resident)
    late = await w.gw.post(f"{base}/reject", None)
    assert late.status_code == 409 and "under way" in late.text, late.text


async def test_erasure_endpoints_refuse_bad_ids_missing_tokens_and_oversize_bodies(
        world: World) -> None:
    gw = world.gw
    assert (await gw.client.post("/api/v1/residents/r-1/erasure",
                                 json=ASK)).status_code == 401
    for step in ("approve", "reject"):
        assert (await gw.client.post(f"/api/v1/residents/r-1/erasure/{step}")
                ).status_code == 401
    assert (await gw.client.get("/api/v1/erasures/pending")).status_code == 401
    assert (await gw.client.get("/api/v1/residents/r-1/erasure")).status_code == 401
    bad = await gw.post("/api/v1/residents/r.1*/erasure", ASK)
    assert bad.status_code in (400, 404), bad.text
    huge = await gw.client.post("/api/v1/residents/r-1/erasure",
                                content=b'{"reason": "' + b"x" * 2_000_000 + b'"}',
                                headers={**gw.auth("city_admin"),
                                         "Content-Type": "application/json"})
    assert huge.status_code in (400, 413), huge.status_code
    seen = await gw.get("/api/v1/residents/r-1/erasure", role="social_worker")
    assert seen.status_code == 403


async def retention_events(js: Any, run_ids: set[str]) -> dict[str, dict[str, int]]:
    from contracts.privacy import RetentionApplied

    runs = await stream_events(js, subj.event("privacy", "retention_applied"), RetentionApplied)
    return {r.service: r.removed for r in runs if r.run_id in run_ids}


async def test_retention_lists_then_applies_with_a_controllable_clock(world: World) -> None:
    from datetime import UTC, datetime, timedelta

    from contracts import Actor
    from contracts import privacy as pv
    from im_cli.privacy import apply_all, ask_all

    w, admin = world, Actor(subject="ops", role="city_admin")
    p = await resident_everywhere(w)
    assert (await w.gw.get(f"/api/v1/residents/{p.resident}")).status_code == 200  # audited

    async def audited() -> int:
        r = await w.gw.get(f"/api/v1/audit?resident={p.resident}", role="auditor")
        return int(r.json()["total"])

    reads = await audited()
    assert reads >= 1
    # now: nothing of this is past its period
    now, _, _ = await ask_all(w.nc, pv.RETENTION, pv.RunRetention(actor=admin), 3.0)
    assert now["gateway"]["rules"]["audit"]["expired"] == 0
    # ten years on, as a dry run: listed, not removed
    later = datetime.now(UTC) + timedelta(days=3650)
    listed, errors, silent = await ask_all(
        w.nc, pv.RETENTION, pv.RunRetention(actor=admin, as_of=later), 3.0)
    assert not errors and not silent
    assert listed["gateway"]["rules"]["audit"]["expired"] >= reads
    ruled = {name for name, s in listed.items() if s.get("rules")}
    assert {"gateway", "housing", "education", "employment", "counselling",
            "volunteers"} <= ruled
    assert await audited() == reads
    # applied: removed, and every service with rules announces its run
    applied, errors = await apply_all(w.nc, later, admin, 5.0)
    assert not errors, errors
    assert set(applied) == ruled
    assert await audited() == 0
    run_ids = {s["run_id"] for s in applied.values() if "run_id" in s}
    events = await eventually(lambda: _all_runs(w, run_ids, ruled), timeout=15)
    assert events["gateway"]["audit"] >= reads
    # refused for anyone but a city admin (auditors may only list)
    done, refused = await apply_all(w.nc, later, Actor(subject="a", role="auditor"), 3.0)
    assert not done and set(refused) >= ruled
    assert all("forbidden" in why for why in refused.values())
    # a query only reads: applying through it is refused with what to do instead
    _, wrong, _ = await ask_all(w.nc, pv.RETENTION, pv.RunRetention(
        actor=admin, as_of=later, dry_run=False), 3.0)
    assert set(wrong) >= ruled and all("apply_retention" in why for why in wrong.values())


async def _all_runs(w: World, run_ids: set[str], services: set[str]) -> Any:
    got = await retention_events(w.nc.jetstream(), run_ids)
    return got if services <= set(got) else None
