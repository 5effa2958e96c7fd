"""`im up` keeps its own servers running: kill -9 of the embedded nats-server or of
nx-27017 is reaped (no defunct process) and the server started again on the same store
within seconds; the services and the gateway carry on without a restart."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import nats
import pytest

from im_cli.embedded import free_port
from im_cli.testing import eventually
from im_cli.up import http_status

pytestmark = [pytest.mark.faults, pytest.mark.timeout(300)]


def pids_of(program: str, under: Path) -> list[int]:
    """Processes running `program` with a path under `under` on their command line."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            state = (entry / "stat").read_text().rsplit(")", 1)[1].split()[0]
        except OSError:
            continue
        if state != "Z" and any(program.encode() in a for a in argv) \
                and any(str(under).encode() in a for a in argv):
            found.append(int(entry.name))
    return found


def is_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False  # gone: reaped
    return stat.rsplit(")", 1)[1].split()[0] == "Z"


async def test_up_restarts_a_killed_server_on_the_same_store(tmp_path: Path) -> None:
    var = tmp_path / "var"
    ports = {"nats": free_port(), "mongo": free_port(), "gateway": free_port()}
    with (tmp_path / "up.out").open("wb") as out:  # (the child keeps its own copy)
        up = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "im_cli.main", "up", "--var", str(var), "--only",
            "volunteers", "--nats-port", str(ports["nats"]), "--mongo-port",
            str(ports["mongo"]), "--gateway-port", str(ports["gateway"]), stdout=out,
            stderr=subprocess.STDOUT)
    figures: dict[str, float] = {}

    async def ready() -> bool:
        return await http_status(ports["gateway"], "/readyz") == 200

    try:
        await eventually(ready, timeout=90, interval=0.2)
        for program, key in (("nats-server", "nats"), ("nx-27017", "mongo")):
            [old] = pids_of(program, var)
            os.kill(old, signal.SIGKILL)
            began = time.monotonic()
            await eventually(lambda p=program: pids_of(p, var), timeout=20, interval=0.05)
            figures[f"{key}_back_s"] = round(time.monotonic() - began, 2)
            assert not is_zombie(old), f"{program} {old} was left defunct"
            await eventually(ready, timeout=30, interval=0.1)
            figures[f"{key}_gateway_ready_s"] = round(time.monotonic() - began, 2)
        password = json.loads((var / "nats" / "passwords.json").read_text())["admin"]
        nc = await nats.connect(f"nats://127.0.0.1:{ports['nats']}", user="admin",
                                password=password)
        try:  # the stream the service declared before the kill: the same store
            assert (await nc.jetstream().stream_info("IM_EVT_VOLUNTEERS")).config.name
        finally:
            await nc.close()
        log = (var / "logs" / "volunteers.log").read_text()
        assert log.count("im up: starting volunteers") == 1, log[-3000:]
        assert (var / "logs" / "gateway.log").read_text().count("im up: starting gateway") == 1
        print(f"\nFAULT im up kill -9 of its servers: {figures}", flush=True)
    finally:
        up.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(up.wait(), 30)
        except TimeoutError:
            up.kill()
            code = -9
    assert code == 0, (tmp_path / "up.out").read_text()[-3000:]
