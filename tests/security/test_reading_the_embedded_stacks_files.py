"""Attack: another account on the machine reads var/. The SQLite files of nx-27017 (every
service's documents: names, case notes), the logs and the JetStream store were 0644;
`im up` now runs with the mask 077, so var/ and everything in it is its owner's alone,
and secrets files are written 0600 from their first byte (never widened, then narrowed)."""

from __future__ import annotations

import os
import signal
import stat
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from im_cli import natsauth
from im_cli.embedded import free_port
from im_runtime.plugins import installed


def readable_by_others(root: Path) -> list[str]:
    out = []
    for path in [root, *root.rglob("*")]:
        mode = stat.S_IMODE(path.lstat().st_mode)
        if path.is_symlink():
            continue
        if mode & 0o077:
            out.append(f"{oct(mode)} {path.relative_to(root.parent)}")
    return out


@pytest.mark.integration
def test_nothing_under_var_is_readable_by_another_account(tmp_path: Path) -> None:
    var = tmp_path / "var"
    var.mkdir(mode=0o755)
    var.chmod(0o755)  # as an earlier version left it
    ports = {"nats": free_port(), "mongo": free_port(), "gateway": free_port()}
    out = tmp_path / "up.out"
    env = {k: v for k, v in os.environ.items() if not k.startswith("IM_")}
    with open(out, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "im_cli.main", "up", "--var", str(var), "--no-services",
             *(a for key, port in ports.items() for a in (f"--{key}-port", str(port)))],
            stdout=log, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 60
        while "Press Ctrl-C" not in out.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, out.read_text()
            time.sleep(0.2)
        url = f"http://127.0.0.1:{ports['gateway']}/health"
        with urllib.request.urlopen(url, timeout=5) as r:
            assert r.status == 200
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(30)
    assert (var / "nats" / "passwords.json").exists() and (var / "gateway.key").exists()
    assert any(var.rglob("*.log")) and any((var / "mongo").rglob("*"))
    assert readable_by_others(var) == []


@pytest.mark.unit
def test_rewritten_secrets_are_never_readable_by_others(tmp_path: Path) -> None:
    """Passwords rewritten over a file someone left 0644: the new content appears only in
    a file that was 0600 from the start (a new inode put in place)."""
    path = tmp_path / "passwords.json"
    path.write_text("{}")
    path.chmod(0o644)
    before = path.stat().st_ino
    natsauth.embedded(tmp_path, installed(), ["op-a"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert path.stat().st_ino != before
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []
