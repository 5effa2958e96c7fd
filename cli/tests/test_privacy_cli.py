"""`im privacy report` and `im privacy retention` as a user runs them."""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import uuid
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from im_cli.commands import CliError
from im_cli.erasures import city_admin
from im_runtime.service import ServiceRuntime
from support.probe import spec


def im(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "im_cli.main", "privacy", *args],
                          capture_output=True, text=True, env={**os.environ, **(env or {})},
                          cwd="/tmp")


@pytest.mark.unit
def test_bad_arguments_get_a_clear_error():
    out = im("report", "r.1*")
    assert out.returncode == 2 and "resident id" in out.stderr
    out = im("retention", "--as-of", "2030-01-01T00:00:00")
    assert out.returncode == 2 and "time zone" in out.stderr
    out = im("retention", "--as-of", "next tuesday")
    assert out.returncode == 2
    out = im("export", "r.1*")
    assert out.returncode == 2 and "resident id" in out.stderr
    out = im("export", "r-1", "--lang", "fr")
    assert out.returncode == 2 and "invalid choice" in out.stderr


@pytest.mark.unit
def test_an_unreachable_bus_is_named():
    out = im("report", "r-1", env={"IM_NATS_URL": "nats://127.0.0.1:1"})
    assert out.returncode == 2 and "nats://127.0.0.1:1" in out.stderr


@pytest.mark.integration
@pytest.mark.parametrize("url", ["one", "cluster"])
async def test_the_report_names_what_a_running_service_holds(settings, nc, url):
    rt = ServiceRuntime(spec, settings)
    await rt.start()
    try:
        rid = f"r-{uuid.uuid4().hex[:10]}"
        await nc.request("im.cmd.probe.add", json.dumps({"resident_id": rid}).encode(),
                         timeout=5)
        # A cluster's IM_NATS_URL lists its servers, one of them down (#19: it used to be
        # passed to nats-py as one string, "invalid connect url option").
        down = "nats://127.0.0.1:1"
        env = {"IM_NATS_URL": settings.nats_url if url == "one"
               else f"{down},{settings.nats_url}"}
        out = await asyncio.to_thread(im, "report", rid, "--json", "--timeout", "1", env=env)
        assert out.returncode == 0, out.stderr
        rep = json.loads(out.stdout)
        assert rep["services"]["probe"]["counters"] == 1
        assert rep["found"] is True
        assert any(rid in s for subjects in rep["streams"].values() for s in subjects)
        other = await asyncio.to_thread(im, "report", f"r-{uuid.uuid4().hex[:10]}",
                                        "--timeout", "1", env=env)
        assert other.returncode == 0 and other.stdout.strip().endswith("found: nothing")
    finally:
        await rt.stop()


@pytest.mark.integration
async def test_the_deep_report_shows_its_progress(settings, nc):
    """--deep reads every message of every stream: a progress bar on stderr (its last
    state, as stderr is no terminal here), the report alone on stdout."""
    rt = ServiceRuntime(spec, settings)
    await rt.start()
    try:
        rid = f"r-{uuid.uuid4().hex[:10]}"
        await nc.request("im.cmd.probe.add", json.dumps({"resident_id": rid}).encode(),
                         timeout=5)
        out = await asyncio.to_thread(im, "report", rid, "--deep", "--json", "--timeout", "1",
                                      env={"IM_NATS_URL": settings.nats_url})
        assert out.returncode == 0, out.stderr
        rep = json.loads(out.stdout)
        assert sum(rep["messages"].values()) >= 1
        read = re.search(r"read every stream .* (\d+)/(\d+) +100%", out.stderr)
        assert read and read.group(1) == read.group(2) and int(read.group(1)) >= 1, out.stderr
    finally:
        await rt.stop()


@pytest.mark.integration
async def test_the_export_gives_what_a_running_service_holds(settings, nc):
    rt = ServiceRuntime(spec, settings)
    await rt.start()
    try:
        rid = f"r-{uuid.uuid4().hex[:10]}"
        await nc.request("im.cmd.probe.add", json.dumps({"resident_id": rid}).encode(),
                         timeout=5)
        env = {"IM_NATS_URL": settings.nats_url}
        out = await asyncio.to_thread(im, "export", rid, "--timeout", "1", env=env)
        assert out.returncode in (0, 1), out.stderr  # 1: a service of another test is silent
        export = json.loads(out.stdout)
        assert export["resident_id"] == rid
        assert export["sections"]["probe"]["documents"] >= 1
        page = await asyncio.to_thread(im, "export", rid, "--html", "--lang", "en",
                                       "--timeout", "1", env=env)
        assert "Access to personal data (Art. 15 GDPR)" in page.stdout and rid in page.stdout
        nobody = await asyncio.to_thread(im, "export", f"r-{uuid.uuid4().hex[:10]}",
                                         "--timeout", "1", env=env)
        assert nobody.returncode != 0  # nobody holds anything (or someone was silent)
        assert nobody.returncode == 1 or "no running service holds data" in nobody.stderr
    finally:
        await rt.stop()


@pytest.mark.unit
def test_approving_needs_a_resident_and_who_decides():
    out = im("approve", "r-1")
    assert out.returncode == 2 and "--by" in out.stderr
    out = im("approve", "r.1*", "--by", "admin-b")
    assert out.returncode == 2 and "resident id" in out.stderr
    out = im("reject", "r-1", "--by", " ")
    assert out.returncode == 2 and "--by" in out.stderr


@pytest.mark.integration
async def test_a_second_city_admin_approves_from_the_command_line(settings, nc,
                                                                 monkeypatch):
    from contracts import Actor
    from contracts import privacy as pv
    from privacy.plugin import spec as privacy_spec

    rt = ServiceRuntime(privacy_spec, settings)
    await rt.start()
    try:
        rid = f"r-{uuid.uuid4().hex[:10]}"
        asked = await nc.request("im.cmd.privacy.request_erasure", msgspec.json.encode(
            pv.RequestErasure(resident_id=rid, category="unlawful_processing",
                              reason="entered at the wrong office", command_id=f"c-{rid}",
                              actor=Actor(subject="admin-a", role="city_admin"))), timeout=5)
        assert json.loads(asked.data)["state"] == "awaiting_approval", asked.data
        env = {"IM_NATS_URL": settings.nats_url, "IM_MONGO_URL": settings.mongo_url,
               "IM_DB_PREFIX": settings.db_prefix}
        await accounts_of(settings, {"admin-a": "city_admin", "admin-b": "city_admin",
                                     "admin-c": "city_admin", "sw-x": "social_worker",
                                     "admin-off": "city_admin"}, disabled="admin-off")
        refused = await asyncio.to_thread(im, "approve", rid, "--by", "nobody", env=env)
        assert refused.returncode == 2 and "no such user" in refused.stderr, refused.stderr
        for name, value in env.items():  # the same check, in this process
            monkeypatch.setenv(name, value)
        for by, why in (("sw-x", "not a city administrator"), ("admin-off", "disabled")):
            with pytest.raises(CliError, match=why):
                await city_admin(by)
        await city_admin("admin-b")
        out = await asyncio.to_thread(im, "pending", "--json", env=env)
        assert out.returncode == 0, out.stderr
        (mine,) = [p for p in json.loads(out.stdout) if p["resident_id"] == rid]
        assert (mine["category"], mine["reason"], mine["requested_by"]) == (
            "unlawful_processing", "entered at the wrong office", "admin-a")
        own = await asyncio.to_thread(im, "approve", rid, "--by", "admin-a", env=env)
        assert own.returncode == 2 and "different city administrator" in own.stderr
        ok = await asyncio.to_thread(im, "approve", rid, "--by", "admin-b", env=env)
        assert ok.returncode == 0, ok.stderr
        assert "approved" in ok.stdout and "admin-b" in ok.stdout
        out = await asyncio.to_thread(im, "pending", env=env)
        assert rid not in out.stdout
        late = await asyncio.to_thread(im, "reject", rid, "--by", "admin-c", env=env)
        assert late.returncode == 2 and "under way" in late.stderr
    finally:
        await rt.stop()


async def accounts_of(settings: Any, roles: dict[str, str], disabled: str) -> None:
    """Accounts in the gateway's database, as `im users add` makes them."""
    from gateway import accounts, useradmin
    from gateway.sessions import Lifetimes, Sessions

    client, db = accounts.connect(settings.mongo_url, settings.db_prefix)
    try:
        users = accounts.Accounts(db, attempts=5, lockout=timedelta(minutes=15))
        for name, role in roles.items():
            await useradmin.add(users, accounts.NewUser(username=name, role=role,  # type: ignore[arg-type]
                                                        name=name))
        sessions = Sessions(db, Lifetimes(total=timedelta(hours=1), idle=timedelta(hours=1)))
        await useradmin.disable(users, sessions, disabled)
    finally:
        await client.close()
