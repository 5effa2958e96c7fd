"""The fault suite's stage: its own nats-server and nx-27017 (so killing them disturbs no
other test), the probe service started as `im run` child processes, a publisher that
keeps trying through outages, and the counting every case prints.

Each case sends pings (`im.tester.pinged.v1`, by=1) to the probe, which adds them to a
counter per resident and emits `im.probe.counted.v1` for each through its outbox. In the
end: the counters' sum is the effects (must equal the pings sent), the probe's stream
holds the events it emitted (must equal them too: more would be duplicates in effect),
and the dead-letter stream holds what was given up on."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgspec
import nats
from pymongo import AsyncMongoClient

from contracts import subjects as subj
from contracts import wrap
from im_cli.embedded import MongoWireServer, NatsServer, free_port, port_open
from im_cli.testing import eventually
from support.probe import Pinged

PROBE = "support.probe:spec"
SOURCE_STREAM = subj.event_stream("tester")
PROBE_STREAM = subj.event_stream("probe")
DURABLE = "probe__tester"
TESTS = Path(__file__).resolve().parents[1]
FIGURES = Path(os.environ.get("IM_FAULT_FIGURES", TESTS.parent / "var" / "faults.jsonl"))


@dataclass
class Figures:
    sent: int = 0
    effects: int = 0
    emitted: int = 0
    dead_letters: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def duplicates(self) -> int:
        return max(0, self.effects - self.sent) + max(0, self.emitted - self.effects)

    @property
    def lost(self) -> int:
        return max(0, self.sent - self.effects)


def report(case: str, figures: Figures) -> None:
    """Print what the case counted (make faults runs with -s) and keep it for the docs."""
    row = {"case": case, "sent": figures.sent, "effects": figures.effects,
           "emitted": figures.emitted, "duplicates": figures.duplicates,
           "lost": figures.lost, "dead_letters": figures.dead_letters, **figures.extra,
           "at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    print(f"\nFAULT {case}: " + ", ".join(f"{k}={v}" for k, v in row.items() if k != "case"),
          flush=True)
    with contextlib.suppress(OSError):
        FIGURES.parent.mkdir(parents=True, exist_ok=True)
        with FIGURES.open("a") as out:
            out.write(json.dumps(row) + "\n")


class Stage:
    """Servers on free ports under `root`, and services as child processes."""

    def __init__(self, root: Path, max_deliver: int = 5, ack_wait: float = 5.0) -> None:
        self.root = root
        self.nats = NatsServer(port=free_port(), workdir=root / "nats")
        self.mongo = MongoWireServer(port=free_port(), workdir=root / "mongo")
        self.prefix = "f_"
        self.max_deliver, self.ack_wait = max_deliver, ack_wait
        self.children: dict[str, subprocess.Popen[bytes]] = {}
        self.health: dict[str, int] = {}
        self.exits: dict[str, list[int]] = {}

    # servers -----------------------------------------------------------------------
    def start_servers(self) -> None:
        self.nats.start()
        self.mongo.start()

    def kill_nats(self, sig: int = signal.SIGKILL) -> None:
        assert self.nats.proc is not None
        self.nats.proc.send_signal(sig)
        self.nats.proc.wait(10)

    def start_nats(self) -> None:
        self.nats.start()

    def signal_mongo(self, sig: int) -> None:
        assert self.mongo.proc is not None
        self.mongo.proc.send_signal(sig)

    def kill_mongo(self) -> None:
        assert self.mongo.proc is not None
        self.mongo.proc.kill()
        self.mongo.proc.wait(10)

    def start_mongo(self) -> None:
        self.mongo.start()

    # services ----------------------------------------------------------------------
    def env(self, **extra: str) -> dict[str, str]:
        # A database that does not answer within seconds counts as away (PyMongo waits
        # 30 s to select a server and for ever on a stopped one by default).
        mongo = self.mongo.url + "&serverSelectionTimeoutMS=2000&socketTimeoutMS=5000"
        return {**os.environ, "IM_NATS_URL": self.nats.url, "IM_MONGO_URL": mongo,
                "IM_DB_PREFIX": self.prefix,
                "IM_RETRY_BACKOFF": "0.05", "IM_MAX_DELIVER": str(self.max_deliver),
                "IM_ACK_WAIT": str(self.ack_wait), "IM_LOG_FORMAT": "text",
                "PYTHONPATH": os.pathsep.join([str(TESTS), os.environ.get("PYTHONPATH", "")]),
                **extra}

    def start(self, name: str, spec: str = PROBE, **env: str) -> subprocess.Popen[bytes]:
        port = self.health.setdefault(name, free_port())
        log = open(self.root / f"{name}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "im_cli.main", "run", spec],
                                env=self.env(IM_HEALTH_PORT=str(port), **env), stdout=log,
                                stderr=subprocess.STDOUT)
        log.close()
        self.children[name] = proc
        return proc

    def kill(self, name: str) -> int:
        proc = self.children[name]
        proc.kill()
        code = proc.wait(10)
        self.exits.setdefault(name, []).append(code)
        return code

    def logs(self) -> str:
        return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-4000:]}"
                         for p in sorted(self.root.glob("*.log")))

    def stop(self) -> None:
        for proc in self.children.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.children.values():
            try:
                proc.wait(15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for server in (self.mongo, self.nats):
            if server.proc is not None and server.proc.poll() is None:
                with contextlib.suppress(Exception):
                    os.kill(server.proc.pid, signal.SIGCONT)
            server.stop()

    async def ready(self, name: str) -> int | None:
        """The status of the service's /ready (None: nothing answers)."""
        from im_cli.up import http_status

        return await http_status(self.health[name], "/ready", timeout=1.0)

    async def until_ready(self, *names: str, timeout: float = 60.0) -> float:
        began = time.monotonic()
        for name in names:
            await eventually(lambda n=name: _eq(self.ready(n), 200), timeout=timeout,
                             interval=0.1)
        return time.monotonic() - began

    # the bus -----------------------------------------------------------------------
    async def connect(self) -> Any:
        """A client that keeps reconnecting, as the services do."""
        async def quiet(exc: Exception) -> None:  # (nats-py logs each failed attempt)
            pass

        return await nats.connect(self.nats.url, max_reconnect_attempts=-1,
                                  reconnect_time_wait=0.2, connect_timeout=2, error_cb=quiet)

    async def declare(self, nc: Any) -> None:
        """The source stream, as an operator's system would find it."""
        from im_runtime import streams

        await streams.ensure(nc.jetstream(), streams.for_source("tester", 1, 600.0))

    async def send(self, js: Any, n: int, residents: int = 50, start: int = 0,
                   poison: set[int] | None = None, pace: float = 0.0) -> list[str]:
        """Publish pings start..start+n-1 until each is acknowledged (retrying through
        outages with the same Nats-Msg-Id, so the stream keeps one of each)."""
        ids: list[str] = []
        for i in range(start, start + n):
            data = Pinged(resident_id=f"r{i % residents}", die=bool(poison and i in poison))
            event = wrap(data, source="tester", id=f"ping-{i}")
            body = msgspec.json.encode(event)
            subject = subj.event("tester", "pinged", data.resident_id)
            while True:
                try:
                    await js.publish(subject, body, headers={"Nats-Msg-Id": event.id},
                                     timeout=2)
                    break
                except Exception:
                    await asyncio.sleep(0.2)
            ids.append(event.id)
            if pace:
                await asyncio.sleep(pace)
        return ids

    # counting ----------------------------------------------------------------------
    async def settled(self, js: Any) -> bool:
        try:
            info = await js.consumer_info(SOURCE_STREAM, DURABLE, timeout=2)
        except Exception:
            return False
        return info.num_pending == 0 and info.num_ack_pending == 0

    async def count(self, js: Any, sent: int) -> Figures:
        client: AsyncMongoClient[Any] = AsyncMongoClient(self.mongo.url)
        try:
            db = client[self.prefix + "probe"]
            effects = sum([int(d["total"]) async for d in db["counters"].find({})])
            outbox = await db["im_outbox"].count_documents({})
        finally:
            await client.close()
        emitted = (await js.stream_info(PROBE_STREAM)).state.messages
        try:
            dead = (await js.stream_info(subj.DLQ_STREAM)).state.messages
        except Exception:
            dead = 0
        return Figures(sent=sent, effects=effects, emitted=emitted, dead_letters=dead,
                       extra={"outbox_left": outbox})

    async def drained(self, js: Any, sent: int, timeout: float = 120.0) -> Figures:
        """Wait until every ping is handled and every emitted event relayed."""
        async def done() -> bool:
            if not await self.settled(js):
                return False
            figures = await self.count(js, sent)
            return figures.effects >= sent and figures.extra["outbox_left"] == 0 \
                and figures.emitted >= figures.effects
        with contextlib.suppress(AssertionError):
            await eventually(done, timeout=timeout, interval=0.5)
        return await self.count(js, sent)


async def _eq(value: Any, want: Any) -> bool:
    return (await value) == want


def wait_port_closed(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while port_open(port) and time.monotonic() < deadline:
        time.sleep(0.05)
