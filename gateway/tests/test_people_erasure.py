"""Volunteers and the city's staff are people too (issue #22): each is erased on request
(four eyes) and by retention like a resident, and afterwards no stream (subject, headers
or body of any message) and no database names them, while the residents they worked
with keep their records. One set of servers with every installed service."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import msgspec
import pytest

from contracts import Actor, wrap
from contracts import subjects as subj
from contracts.housing import StaffAssigned
from im_cli.privacy import apply_all
from im_cli.testing import eventually
from im_runtime.plugins import installed
from support.world import (
    World,
    database_mentions,
    erase_and_wait,
    family,
    ok,
    own_world,
    stream_mentions,
)

pytestmark = pytest.mark.flow
ASK = {"category": "subject_request"}


@pytest.fixture(scope="module")
async def world(kit: Any) -> AsyncIterator[World]:
    async for w in own_world(kit, installed()):
        yield w


async def volunteer(w: World, tag: str) -> str:
    vid = f"v-{tag}"
    await ok(await w.gw.post("/api/v1/commands/volunteers/register_volunteer", {
        "volunteer_id": vid, "name": f"Vol{tag}", "languages": ["de", "ar"],
        "districts": ["Bothfeld"], "offers": ["language_tandem"], "capacity": 2,
        "background_check_on": date.today().isoformat()}))
    return vid


async def social_worker(w: World, tag: str, site: str) -> tuple[str, str]:
    """An account that signed in once and read a resident, deployed to `site`: the user
    name and the token of her session."""
    name = f"sw-{tag}"
    added = await w.gw.post("/api/v1/users", {"username": name, "role": "social_worker",
                                              "name": f"Staff{tag}"})
    assert added.status_code == 201, added.text
    password = f"pw-{uuid.uuid4().hex}"
    changed = await w.gw.client.post("/api/auth/password", json={
        "username": name, "password": added.json()["password"], "new_password": password})
    assert changed.status_code == 200, changed.text
    await ok(await w.gw.post("/api/v1/commands/housing/assign_staff", {
        "staff_id": name, "name": f"Staff{tag}", "site_ids": [site]}))
    login = await w.gw.client.post("/api/auth/login", json={"username": name,
                                                            "password": password})
    assert login.status_code == 200, login.text
    return name, login.json()["access_token"]


async def erased(w: World, kind: str, person: str) -> dict[str, Any]:
    asked = await w.gw.post(f"/api/v1/{kind}/{person}/erasure", ASK)
    assert asked.status_code == 202 and asked.json()["state"] == "awaiting_approval", asked.text
    approved = await w.gw.post(f"/api/v1/people/{person}/erasure/approve", None)
    assert approved.status_code == 202, approved.text

    async def complete() -> dict[str, Any] | None:
        s = (await w.gw.get(f"/api/v1/people/{person}/erasure")).json()
        return s if s.get("complete") else None

    return dict(await eventually(complete, timeout=40, interval=0.3))


async def nowhere(w: World, *terms: str) -> None:
    for term in terms:
        assert await stream_mentions(w, term) == {}, term
    assert await database_mentions(w, list(terms)) == []


async def test_a_volunteer_is_erased_and_the_resident_keeps_the_tandem(world: World) -> None:
    w, tag = world, uuid.uuid4().hex[:8]
    f = await family(w, tag)
    vid = await volunteer(w, tag)
    await ok(await w.gw.post("/api/v1/commands/volunteers/propose_match", {
        "volunteer_id": vid, "resident_id": f.parent, "offer": "language_tandem"}))
    shown = await w.gw.post("/api/v1/commands/volunteers/get_volunteer",
                            {"volunteer_id": vid})  # a read, audited under the volunteer's id
    assert shown.status_code == 200, shown.text

    async def on_the_bus() -> bool:
        return (await stream_mentions(w, vid)).get("IM_EVT_VOLUNTEERS", 0) >= 2

    await eventually(on_the_bus, timeout=20, interval=0.3)
    done = await erased(w, "volunteers", vid)
    assert done["person"] == "volunteer"
    assert "volunteers" in {c["service"] for c in done["confirmations"]}
    await nowhere(w, vid, f"Vol{tag}")
    again = await w.gw.post("/api/v1/commands/volunteers/register_volunteer", {
        "volunteer_id": vid, "name": f"Vol{tag}", "languages": ["de"],
        "districts": ["Bothfeld"], "offers": ["language_tandem"], "capacity": 1})
    assert again.status_code == 410 and "erased" in again.text, again.text
    # the resident's side of the tandem stays, with nobody named as the volunteer
    found = await database_mentions(w, [f.parent])
    assert any(".matches/" in d for d in found), found


async def test_a_staff_member_is_erased_deployment_account_and_sessions(
        world: World, tmp_path: Path) -> None:
    w, tag = world, uuid.uuid4().hex[:8]
    f = await family(w, tag)
    name, token = await social_worker(w, tag, f.site)
    read = await w.gw.client.get(f"/api/v1/residents/{f.parent}",
                                 headers={"Authorization": f"Bearer {token}"})
    assert read.status_code == 200, read.text  # audited under her name
    own = await w.gw.post(f"/api/v1/staff/{name}/erasure", ASK,
                          headers=w.gw.auth("city_admin", subject=name))
    assert own.status_code == 403, own.text

    async def on_the_bus() -> bool:
        return bool(await stream_mentions(w, name))

    await eventually(on_the_bus, timeout=20, interval=0.3)
    done = await erased(w, "staff", name)
    assert done["person"] == "staff"
    await nowhere(w, name, f"Staff{tag}")
    users = (await w.gw.get("/api/v1/users")).json()
    assert name not in [u["username"] for u in users]
    again = await w.gw.client.get(f"/api/v1/residents/{f.parent}",
                                  headers={"Authorization": f"Bearer {token}"})
    assert again.status_code == 401, again.text
    # the reads she made stay in the audit log, naming nobody
    audit = (await w.gw.get(f"/api/v1/audit?resident={f.parent}", role="auditor")).json()
    assert any(e["subject"].startswith("erased:") for e in audit["items"]), audit["items"]
    # her user name is not given to anyone again: not from the users page ...
    reused = await w.gw.post("/api/v1/users", {"username": name, "role": "auditor",
                                               "name": "Someone Else"})
    assert reused.status_code == 409, reused.text
    assert reused.json()["details"]["field"] == "username" and "erased" in reused.text
    # ... nor from `im users add`, with the same database and erasure secret
    out = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "im_cli.main", "users", "add", name, "--role", "auditor"],
        capture_output=True, text=True, cwd=tmp_path, timeout=60,
        env={**os.environ, "IM_MONGO_URL": w.settings.mongo_url,
             "IM_DB_PREFIX": w.settings.db_prefix})
    assert out.returncode == 2 and "erased" in out.stderr, out.stdout + out.stderr
    assert name not in [u["username"] for u in (await w.gw.get("/api/v1/users")).json()]
    # and the name recorded is a key, not the name (the scan above found it nowhere)
    await nowhere(w, name)
    # Housing deploys nobody under her id again ...
    redeployed = await w.gw.post("/api/v1/commands/housing/assign_staff", {
        "staff_id": name, "name": f"Staff{tag}", "site_ids": [f.site]})
    assert redeployed.status_code == 410, redeployed.text
    # ... and a copy of her deployment reaching the bus late (an outbox replayed after the
    # erasure; its subject names no one) is dropped by plans, not made into a record ...
    plans = w.runtimes["plans"].metrics.erased_dropped.labels("plans")
    before = plans._value.get()
    late = wrap(StaffAssigned(staff_id=name, site_ids=[f.site]), source="housing")
    await w.nc.jetstream().publish(subj.event("housing", "staff_assigned"),
                                   msgspec.json.encode(late), headers={"Nats-Msg-Id": late.id})
    await eventually(lambda: plans._value.get() > before, timeout=20)
    assert await database_mentions(w, [name]) == []
    assert await stream_mentions(w, name) == {"IM_EVT_HOUSING": 1}
    # ... and leaves the stream with the ledger's next sweep (after the next erasure)
    await erase_and_wait(w, (await family(w)).parent)

    async def swept() -> bool:
        return await stream_mentions(w, name) == {}

    await eventually(swept, timeout=30, interval=0.5)


async def test_retention_removes_former_volunteers_and_staff_with_their_messages(
        world: World) -> None:
    w, tag = world, uuid.uuid4().hex[:8]
    f = await family(w, tag)
    vid = await volunteer(w, tag)
    stays = await volunteer(w, uuid.uuid4().hex[:8])  # still volunteering
    name, _ = await social_worker(w, tag, f.site)
    await ok(await w.gw.post("/api/v1/commands/volunteers/retire_volunteer",
                             {"volunteer_id": vid}))
    await ok(await w.gw.post("/api/v1/commands/housing/assign_staff", {
        "staff_id": name, "name": f"Staff{tag}", "site_ids": []}))
    disabled = await w.gw.post(f"/api/v1/users/{name}/disable", None)
    assert disabled.status_code in (200, 201), disabled.text

    async def on_the_bus() -> bool:
        return bool(await stream_mentions(w, vid)) and bool(await stream_mentions(w, name))

    await eventually(on_the_bus, timeout=20, interval=0.3)
    before_stays = await stream_mentions(w, stays)
    later = datetime.now(UTC) + timedelta(days=1096)
    runs, errors = await apply_all(w.nc, later, Actor(subject="ops", role="city_admin"), 5.0)
    assert not errors, errors
    assert vid in runs["volunteers"]["rules"]["former_volunteers"]["ids"]
    assert name in runs["housing"]["rules"]["former_staff"]["ids"]
    assert name in runs["gateway"]["rules"]["disabled_users"]["ids"]

    async def gone() -> bool:
        return not await stream_mentions(w, vid) and not await stream_mentions(w, name)

    await eventually(gone, timeout=30, interval=0.3)
    assert await database_mentions(w, [f"Vol{tag}", f"Staff{tag}"]) == []
    assert await stream_mentions(w, stays) == before_stays


async def test_retiring_a_volunteer_with_an_open_tandem_is_refused(world: World) -> None:
    w, tag = world, uuid.uuid4().hex[:8]
    f = await family(w, tag)
    vid = await volunteer(w, tag)
    await ok(await w.gw.post("/api/v1/commands/volunteers/propose_match", {
        "volunteer_id": vid, "resident_id": f.parent, "offer": "language_tandem"}))
    r = await w.gw.post("/api/v1/commands/volunteers/retire_volunteer", {"volunteer_id": vid})
    assert r.status_code == 409 and "open tandems" in r.text, r.text
    missing = await w.gw.post("/api/v1/commands/volunteers/retire_volunteer",
                              {"volunteer_id": "v-nobody"})
    assert missing.status_code == 404, missing.text
