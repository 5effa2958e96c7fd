"""`im users` as an operator of the platform runs it: add (a one-time password printed
once), list, disable, enable, reset, against the real MongoDB-wire server; the accounts
are the ones the gateway signs in (same database)."""

from __future__ import annotations

import os
import subprocess
import sys
import uuid

import pytest

from im_cli.testing import Servers


def im(*args: str, env: dict[str, str], stdin: str | None = None
       ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "im_cli.main", "users", *args],
                          capture_output=True, text=True, env={**os.environ, **env},
                          input=stdin, cwd="/tmp", timeout=60)


@pytest.mark.integration
def test_add_list_disable_enable_reset(servers: Servers):
    env = {"IM_MONGO_URL": servers.mongo_url, "IM_DB_PREFIX": f"t{uuid.uuid4().hex[:8]}_"}
    out = im("add", "sw-01", "--role", "social_worker", "--name", "Jana Kowalski", env=env)
    assert out.returncode == 0, out.stderr
    assert "added sw-01 (social_worker)" in out.stdout
    password = out.stdout.split("one-time password: ")[1].split()[0]
    assert len(password) >= 12
    out = im("add", "ca-01", "--role", "city_admin", "--password-stdin", env=env,
             stdin="a long enough secret\n")
    assert out.returncode == 0 and "one-time" not in out.stdout, out.stdout + out.stderr
    out = im("add", "sw-01", "--role", "auditor", env=env)
    assert out.returncode == 2 and "sw-01 exists" in out.stderr
    out = im("add", "op-1", "--role", "operator", env=env)
    assert out.returncode == 2 and "operator" in out.stderr
    out = im("add", "bad name", "--role", "auditor", env=env)
    assert out.returncode == 2 and "username" in out.stderr
    out = im("add", "ca-02", "--role", "city_admin", "--password-stdin", env=env, stdin="short\n")
    assert out.returncode == 2 and "at least 12" in out.stderr

    rows = {line.split()[0]: line.split() for line in im("list", env=env).stdout.splitlines()}
    assert rows["sw-01"][1:3] == ["social_worker", "new"]
    assert rows["ca-01"][1:3] == ["city_admin", "active"]
    assert "disabled sw-01" in im("disable", "sw-01", env=env).stdout
    rows = {line.split()[0]: line.split() for line in im("list", env=env).stdout.splitlines()}
    assert rows["sw-01"][2] == "disabled"
    assert im("enable", "sw-01", env=env).returncode == 0
    out = im("reset", "sw-01", env=env)
    assert out.returncode == 0 and "one-time password: " in out.stdout
    assert out.stdout.split("one-time password: ")[1].split()[0] != password
    out = im("disable", "nobody", env=env)
    assert out.returncode == 2 and "no user nobody" in out.stderr


@pytest.mark.unit
def test_an_unreachable_database_is_named():
    out = im("list", env={"IM_MONGO_URL": "mongodb://127.0.0.1:1"})
    assert out.returncode == 2 and "mongodb://127.0.0.1:1" in out.stderr
