"""What the HTTP benchmarks share: an embedded stack in a temporary folder (`im up`), the
demo city seeded into it (`im demo`), and a city admin's token."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx

from im_cli.embedded import free_port


def start_stack(var: Path) -> tuple[subprocess.Popen[bytes], dict[str, int]]:
    ports = {"nats": free_port(), "mongo": free_port(), "gateway": free_port()}
    proc = subprocess.Popen(
        [sys.executable, "-m", "im_cli.main", "up", "--var", str(var), "--nats-port",
         str(ports["nats"]), "--mongo-port", str(ports["mongo"]), "--gateway-port",
         str(ports["gateway"])], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return proc, ports


def wait_ready(port: int, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/health", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    raise SystemExit("the stack did not come up")


def seeding(var: Path, nats_port: int) -> subprocess.Popen[bytes]:
    """`im demo` against the stack, started (the caller waits for it)."""
    admin = json.loads((var / "nats" / "passwords.json").read_text())["admin"]
    env = {**os.environ, "IM_NATS_URL": f"nats://127.0.0.1:{nats_port}",
           "IM_NATS_USER": "admin", "IM_NATS_PASSWORD": admin,
           # the demo signs its commands with the gateway's key, as the gateway does
           "IM_GATEWAY_KEY_FILE": str(var / "gateway.key")}
    with (var / "demo.log").open("wb") as log:  # its progress, and why it failed
        return subprocess.Popen([sys.executable, "-m", "im_cli.main", "demo"], env=env,
                                stdout=subprocess.DEVNULL, stderr=log)


def seed(var: Path, nats_port: int) -> float:
    started = time.monotonic()
    if seeding(var, nats_port).wait() != 0:
        why = (var / "demo.log").read_text(errors="replace").strip().splitlines()[-1:]
        raise SystemExit(f"im demo failed: {' '.join(why)}")
    return time.monotonic() - started


def admin_token(var: Path) -> str:
    from gateway.auth import Tokens
    from gateway.keys import resolve_key

    key = resolve_key({"IM_GATEWAY_KEY_FILE": str(var / "gateway.key")})
    return Tokens(key).mint(role="city_admin", subject="bench")
