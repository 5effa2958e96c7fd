"""Command latency: a command that emits an event is answered only once JetStream has
acknowledged that event (issue #17: the outbox relay's `published`). This measures what
that wait costs, beside a baseline in the same run: the same write by a command that
emits nothing, and a bare JetStream publish round trip. See bench/README.md.

    uv run python bench/commands.py [--commands N] [--clients C]

Starts its own nats-server and nx-27017 on free ports in a temp dir unless IM_NATS_URL
and IM_MONGO_URL are set. Always exits 0: it is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Awaitable, Callable

import msgspec
import nats

from contracts import Command, EventData, Reply, wrap
from contracts import subjects as subj
from contracts.codec import encode_event
from im_cli.embedded import throwaway_servers
from im_runtime import Handles, ServiceSpec, UnitOfWork, streams
from im_runtime.service import ServiceRuntime
from im_runtime.settings import Settings

SERVICE = "benchcmd"


class Tallied(EventData, tag="im.benchcmd.tallied.v1"):
    key: str
    n: int


class Tally(Command):
    key: str


class Counted(Reply, tag="ok"):
    n: int


async def _count(cmd: Tally, uow: UnitOfWork) -> int:
    doc = await uow.get("tallies", cmd.key) or {"_id": cmd.key, "n": 0}
    doc["n"] += 1
    uow.put("tallies", doc)
    return int(doc["n"])


async def tally(cmd: Tally, uow: UnitOfWork) -> Counted:
    """The write and one event: answered once the event is in its stream."""
    n = await _count(cmd, uow)
    uow.emit(Tallied(key=cmd.key, n=n))
    return Counted(n=n)


async def tally_quietly(cmd: Tally, uow: UnitOfWork) -> Counted:
    """The baseline: the same write, no event (answered once committed)."""
    return Counted(n=await _count(cmd, uow))


spec = ServiceSpec(
    name=SERVICE, version="0.0.0", description="command latency benchmark",
    publishes=(Tallied,),
    commands=(Handles("tally", Tally, tally, Counted),
              Handles("tally_quietly", Tally, tally_quietly, Counted)),
)
_ENC, _REPLY = msgspec.json.Encoder(), msgspec.json.Decoder(dict)


def servers(stack: contextlib.ExitStack) -> tuple[str, str, str]:
    if os.environ.get("IM_NATS_URL") and os.environ.get("IM_MONGO_URL"):
        return os.environ["IM_NATS_URL"], os.environ["IM_MONGO_URL"], "IM_NATS_URL/IM_MONGO_URL"
    natsd, mongod = stack.enter_context(throwaway_servers("im-bench-"))
    return natsd.url, mongod.url, "embedded nats-server + nx-27017 (sync_interval: always)"


async def timed(call: Callable[[], Awaitable[None]]) -> float:
    started = time.perf_counter()
    await call()
    return (time.perf_counter() - started) * 1000


async def measure(nc: nats.NATS, n: int, clients: int) -> dict[str, list[float]]:
    """Milliseconds per call of each kind. The kinds take turns within each client, so
    load on the machine falls on all of them alike."""
    js = nc.jetstream()
    out: dict[str, list[float]] = {"tally": [], "tally_quietly": [], "publish": []}

    def command(name: str, key: str) -> Callable[[], Awaitable[None]]:
        async def call() -> None:
            msg = await nc.request(subj.command(SERVICE, name), _ENC.encode(Tally(key=key)),
                                   timeout=30)
            reply = _REPLY.decode(msg.data)
            if reply.get("status") != "ok":
                raise SystemExit(f"{name} answered {reply}")
        return call

    def publish(key: str) -> Callable[[], Awaitable[None]]:
        event = wrap(Tallied(key=key, n=0), source="benchpub")
        async def call() -> None:
            await js.publish(subj.event("benchpub", "tallied", key), encode_event(event),
                             headers={"Nats-Msg-Id": event.id})
        return call

    async def client(c: int) -> None:
        for i in range(n // clients):
            key = f"k{c}-{i % 50}"
            out["tally"].append(await timed(command("tally", key)))
            out["tally_quietly"].append(await timed(command("tally_quietly", key)))
            out["publish"].append(await timed(publish(key)))

    await asyncio.gather(*(client(c) for c in range(clients)))
    return out


def summary(ms: list[float]) -> str:
    q = statistics.quantiles(ms, n=100)
    return (f"p50 {statistics.median(ms):6.2f} ms  p90 {q[89]:6.2f}  p99 {q[98]:6.2f}  "
            f"mean {statistics.fmean(ms):6.2f}  (n={len(ms)})")


async def main(args: argparse.Namespace) -> None:
    with contextlib.ExitStack() as stack:
        nats_url, mongo_url, where = servers(stack)
        settings = Settings(nats_url=nats_url, mongo_url=mongo_url,
                            db_prefix=f"bench{uuid.uuid4().hex[:6]}_",
                            log_format="text", log_level="WARNING")
        rt = ServiceRuntime(spec, settings)
        await rt.start()
        nc = await nats.connect(nats_url)
        try:
            await streams.ensure(nc.jetstream(), streams.for_source("benchpub", 1, 600.0))
            await measure(nc, 20, 1)  # warm up: connections, indexes, first stream writes
            found = await measure(nc, args.commands, args.clients)
        finally:
            await nc.close()
            await rt.stop()
    print(f"command latency, {args.clients} client(s), servers: {where}")
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    print(f"  command emitting one event (waits for its ack): {summary(found['tally'])}")
    print(f"  baseline, same write, no event:                 "
          f"{summary(found['tally_quietly'])}")
    print(f"  a bare JetStream publish round trip:            {summary(found['publish'])}")
    extra = statistics.median(found["tally"]) - statistics.median(found["tally_quietly"])
    print(f"  the event costs the command {extra:+.2f} ms at the median")


if __name__ == "__main__":
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--commands", type=int, default=300, help="calls of each kind (300)")
    p.add_argument("--clients", type=int, default=1, help="concurrent clients (1)")
    a = p.parse_args()
    if a.commands < a.clients or a.clients < 1:
        sys.exit("--commands must be at least --clients, and --clients at least 1")
    asyncio.run(main(a))
