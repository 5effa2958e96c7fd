"""`im up` as a child process on free ports, for tests that need the whole embedded
stack as `make run` starts it (cli/tests/test_up.py, tests/operators/)."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from im_cli.embedded import free_port
from im_cli.testing import STARTUP

PY = sys.executable


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


class Up:
    """`im up` as a child process, its output in a file."""

    def __init__(self, var: Path, *extra: str) -> None:
        self.ports = {"nats": free_port(), "mongo": free_port(), "gateway": free_port()}
        self.out = var.parent / f"up-{time.monotonic_ns()}.out"
        with open(self.out, "wb") as out:
            self.proc = subprocess.Popen(
                [PY, "-m", "im_cli.main", "up", "--var", str(var),
                 "--nats-port", str(self.ports["nats"]), "--mongo-port", str(self.ports["mongo"]),
                 "--gateway-port", str(self.ports["gateway"]), *extra],
                stdout=out, stderr=subprocess.STDOUT)

    @property
    def output(self) -> str:
        return self.out.read_text()

    def wait_ready(self, timeout: float = STARTUP) -> None:
        """Until the gateway answers 200 on /health and the stack has printed its URLs.
        A bound, not a speed target: the servers, every service and the gateway start
        at once, seconds alone and past 20 s at a load average of 10 on two cores."""
        url = f"http://127.0.0.1:{self.ports['gateway']}/health"
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc.poll() is None, f"im up exited early:\n{self.output}"
            try:
                if get(url)[0] == 200 and "Press Ctrl-C" in self.output:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"stack not ready within {timeout}s:\n{self.output}")

    def stop(self, timeout: float = 60.0) -> int:
        """SIGTERM, then the exit code. The bound is above what `im up` itself allows a
        stop (10 s for each of its three groups before it kills a child)."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise AssertionError(f"im up did not stop within {timeout}s:\n{self.output}") from None
