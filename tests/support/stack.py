"""The embedded stack as `make run` starts it (`im up`, NATS with its users, nx-27017 through
its launcher, every installed service and the gateway as child processes, data and logs
under one directory), for tests and benchmarks that look at the files it leaves; plus a
resident with data in every service, made through the API and the operators' bus."""

from __future__ import annotations

import asyncio
import json
import os
import random
import signal
import string
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import httpx
import msgspec
import nats

from contracts import operator as op
from contracts import subjects as subj
from contracts import wrap
from im_cli.embedded import free_port
from im_runtime.plugins import installed


@dataclass
class Stack:
    var: Path
    ports: dict[str, int]
    proc: subprocess.Popen[bytes] | None = None

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.ports['gateway']}"

    def start(self, timeout: float = 90.0) -> None:
        log = open(self.var.parent / "im-up.log", "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "im_cli.main", "up", "--var", str(self.var),
             "--nats-port", str(self.ports["nats"]), "--mongo-port", str(self.ports["mongo"]),
             "--gateway-port", str(self.ports["gateway"])],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True,
            env={**os.environ, "IM_LOG_LEVEL": "INFO"})
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"im up exited with {self.proc.returncode}")
            if set(installed()) <= self._alive():
                return
            time.sleep(0.5)
        self.stop()  # nothing of it may outlive the test
        raise RuntimeError(f"the stack did not come up in {timeout}s")

    def _alive(self) -> set[str]:
        if not (self.var / "gateway.key").exists():
            return set()
        try:
            r = httpx.get(f"{self.base}/api/v1/services", headers=self.auth(), timeout=3)
        except httpx.HTTPError:
            return set()
        if r.status_code != 200:
            return set()
        body = r.json()
        items = body.get("services", body) if isinstance(body, dict) else body
        return {s["name"] for s in items if isinstance(s, dict) and "name" in s}

    def stop(self, timeout: float = 60.0) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()

    def auth(self, role: str = "city_admin", subject: str | None = None) -> dict[str, str]:
        from gateway.auth import Tokens

        key = (self.var / "gateway.key").read_bytes().strip()
        token = Tokens(key).mint(role=role, subject=subject or f"test-{role}",  # type: ignore[arg-type]
                                 ttl=timedelta(hours=1))
        return {"Authorization": f"Bearer {token}"}

    async def bus(self) -> Any:
        passwords = json.loads((self.var / "nats" / "passwords.json").read_text())
        return await nats.connect(f"nats://127.0.0.1:{self.ports['nats']}", user="admin",
                                  password=passwords["admin"])


def new_stack(root: Path) -> Stack:
    return Stack(root / "var", {k: free_port() for k in ("nats", "mongo", "gateway")})


def files_mentioning(root: Path, terms: list[str]) -> dict[str, list[str]]:
    """Every file under `root` holding one of the terms, as bytes anywhere in it."""
    needles = {t: t.encode() for t in terms}
    found: dict[str, list[str]] = {}
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            hits = [t for t, n in needles.items() if n in data]
            if hits:
                found[str(path.relative_to(root))] = hits
    return found


def a_name() -> str:
    return "".join(random.choices(string.ascii_lowercase, k=12)).capitalize()


@dataclass
class Person:
    resident: str
    household: str
    given_name: str
    family_name: str
    site: str


def _ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code in (200, 202), f"{r.request.url.path}: {r.status_code} {r.text}"
    return dict(r.json())


def until(check: Any, timeout: float = 30.0, what: str = "") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        got = check()
        if got:
            return got
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {timeout}s: {what}")
        time.sleep(0.25)


def resident_everywhere(stack: Stack) -> Person:
    """A resident with a placement, an enrolment, coaching, counselling sessions and a
    case note naming them, a move-out case and a tandem; a housemate who keeps all."""
    tag = uuid.uuid4().hex[:8]
    site, operator = f"s-{tag}", f"op-{tag}"
    h = stack.auth()
    with httpx.Client(base_url=stack.base, headers=h, timeout=30) as gw:
        _ok(gw.post("/api/v1/commands/housing/register_site", json={
            "site_id": site, "kind": "shelter", "name": "Munzeler Straße",
            "operator_id": operator, "address": "Munzeler Straße 1", "district": "Bothfeld",
            "capacity": 40}))
        given, family = a_name(), a_name()
        person = _ok(gw.post("/api/v1/residents", json={
            "given_name": given, "family_name": family, "birth_year": 1991,
            "languages": ["ar"], "residence_status": "recognised_refugee",
            "arrival_date": "2025-02-01", "phone": "+49 511 1234567"}))
        rid, household = person["resident_id"], person["household_id"]
        _ok(gw.post("/api/v1/residents", json={
            "household_id": household, "given_name": a_name(), "family_name": a_name(),
            "birth_year": 2015, "residence_status": "recognised_refugee",
            "arrival_date": "2025-02-01"}))
        _ok(gw.post(f"/api/v1/households/{household}/placement",
                    json={"site_id": site, "on": date.today().isoformat()}))
        _ok(gw.post("/api/v1/commands/education/create_course", json={
            "course_id": f"c-{tag}", "kind": "arrival_course", "title": "Ankommen",
            "provider": "operator", "site_id": site, "starts": "2026-01-05",
            "ends": "2026-12-18", "capacity": 12}))
        until(lambda: gw.post("/api/v1/education/enrolments", json={
            "course_id": f"c-{tag}", "resident_id": rid}).status_code == 200, what="enrolment")
        until(lambda: gw.post("/api/v1/employment/coaching", json={
            "resident_id": rid, "topic": "applications", "on": "2026-03-01"}
        ).status_code == 200, what="coaching")
        _ok(gw.post("/api/v1/commands/volunteers/register_volunteer", json={
            "volunteer_id": f"v-{tag}", "name": "Ehrenamt Bothfeld", "languages": ["ar"],
            "districts": ["Bothfeld"], "offers": ["accompaniment"], "capacity": 2}))
        case = _ok(gw.post("/api/v1/commands/housing/open_move_out_case",
                           json={"household_id": household}))
        assert case.get("case_id"), case
    asyncio.run(_operator_events(stack, rid, site, operator, given, family, tag))
    return Person(rid, household, given, family, site)


async def _operator_events(stack: Stack, rid: str, site: str, operator: str, given: str,
                           family: str, tag: str) -> None:
    nc = await stack.bus()
    try:
        js = nc.jetstream()
        for data in (
            op.SessionRecorded(resident_id=rid, site_id=site, session_id=f"se-{tag}-1",
                               category="authorities", held_on=date(2026, 3, 2),
                               duration_minutes=45, counsellor="cw-17"),
            op.SessionRecorded(resident_id=rid, site_id=site, session_id=f"se-{tag}-2",
                               category="health", held_on=date(2026, 3, 9),
                               duration_minutes=30, counsellor="cw-17"),
            op.CaseNoteRecorded(resident_id=rid, site_id=site, note_id=f"n-{tag}",
                                written_on=date(2026, 3, 2),
                                text=f"{given} {family} asked about the Jobcenter letter."),
            op.OperatorReferralRequested(resident_id=rid, site_id=site, referral_id=f"rf-{tag}",
                                 topic="volunteers", requested_on=date(2026, 3, 2)),
        ):
            event = wrap(data, source=operator)
            name = type(data).__struct_config__.tag.split(".")[2]  # type: ignore[union-attr]
            await js.publish(subj.operator_event(operator, name, rid),
                             msgspec.json.encode(event), headers={"Nats-Msg-Id": event.id})
    finally:
        await nc.drain()
