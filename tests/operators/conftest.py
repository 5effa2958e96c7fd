"""The embedded stack as `make run` starts it (housing and counselling only: what an
operator's events and referrals need), with a city whose shelters operators run.
`onboard()` adds an operator with `im operators add` and gives what it printed."""

from __future__ import annotations

import json
import re
import subprocess
import sys
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from support.up import Up

PY = sys.executable


@dataclass
class Operator:
    id: str
    site: str
    resident: str
    env: dict[str, str]  # IM_NATS_URL, IM_NATS_USER, IM_NATS_PASSWORD, IM_OPERATOR
    printed: str


@dataclass
class Stack:
    up: Up
    var: Path

    @property
    def gateway(self) -> str:
        return f"http://127.0.0.1:{self.up.ports['gateway']}"

    def im(self, *args: str, env: dict[str, str] | None = None,
           check: bool = True) -> subprocess.CompletedProcess[str]:
        done = subprocess.run([PY, "-m", "im_cli.main", *args], capture_output=True, text=True,
                              timeout=120, env=env)
        if check:
            assert done.returncode == 0, done.stdout + done.stderr
        return done

    def command(self, service: str, command: str, body: dict[str, Any]) -> dict[str, Any]:
        """A city admin's command through the gateway, as the dashboard sends it."""
        token = self.im("token", "--role", "city_admin", "--key-file",
                        str(self.var / "gateway.key")).stdout.strip()
        req = urllib.request.Request(
            f"{self.gateway}/api/v1/commands/{service}/{command}", method="POST",
            data=json.dumps(body).encode(), headers={"Authorization": f"Bearer {token}",
                                                     "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            answer: dict[str, Any] = json.loads(r.read())
            return answer

    def shelter_with_resident(self, operator: str, site: str | None = None,
                              resident: str | None = None) -> tuple[str, str]:
        """A shelter the operator runs and a resident placed there (housing's register,
        which counselling checks operators' events against)."""
        site = site or f"s-{uuid.uuid4().hex[:8]}"
        resident = resident or f"r-{uuid.uuid4().hex[:10]}"
        self.command("housing", "register_site", {
            "site_id": site, "kind": "shelter", "name": f"Shelter {site}",
            "operator_id": operator, "address": "Munzeler Straße 1", "district": "Ahlem",
            "capacity": 40})
        household = self.command("housing", "register_resident", {
            "resident_id": resident, "given_name": "Samir", "family_name": "Aziz",
            "birth_year": 1988, "languages": ["ar"], "residence_status": "asylum_pending",
            "arrival_date": "2025-09-01"})["household_id"]
        self.command("housing", "place_household", {
            "household_id": household, "site_id": site, "on": date.today().isoformat()})
        return site, resident

    def onboard(self, prefix: str) -> Operator:
        op = f"{prefix}-{uuid.uuid4().hex[:6]}"
        printed = self.im("operators", "add", op, "--var", str(self.var)).stdout
        exports = re.search(r"export (.+)$", printed, re.M)
        assert exports, printed
        env = dict(pair.split("=", 1) for pair in exports.group(1).split())
        site, resident = self.shelter_with_resident(op)
        return Operator(op, site, resident, env, printed)


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    var = tmp_path_factory.mktemp("operators") / "var"
    up = Up(var, "--only", "housing", "--only", "counselling")
    try:
        up.wait_ready(timeout=90)
        yield Stack(up, var)
    finally:
        up.stop()
