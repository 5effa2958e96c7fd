"""Erasure with the demo city: how long one erasure takes from the request to "complete"
(every service confirmed, the resident's messages erased from every stream, the stale
stream state files dropped, the database server's WAL checkpointed), beside a baseline
measured in the same run: a plain purge of a comparable resident's subjects from every
stream (what the ledger did before issue #24, which leaves the bytes on disk).

    uv run python bench/erasure.py [--erasures 5]

It starts the embedded stack as `make run` does (`im up`, in a temporary folder), seeds
the demo city (`im demo`), then erases residents of the demo city that have counselling
sessions and enrolments (each once). Prints both figures and the machine. Exits 0: it
is a benchmark, not a test."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

# bench/gateway.py would shadow the gateway package; the stack helper is the tests' own.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))  # support.stack

from contracts import subjects as subj  # noqa: E402
from im_cli.demo.city import build  # noqa: E402
from im_runtime.streams import names  # noqa: E402
from privacy import shredder  # noqa: E402
from support.stack import Stack, files_mentioning, new_stack  # noqa: E402


def candidates(count: int) -> list[str]:
    """Demo residents with counselling sessions and an enrolment, in a fixed order."""
    city = build()
    enrolled = {rid for _, rid in city.enrolments}
    counselled = [str(s["resident_id"]) for s in city.sessions]
    seen: list[str] = []
    for rid in counselled:
        if rid in enrolled and rid not in seen:
            seen.append(rid)
    return seen[:count]


def seed(stack: Stack) -> float:
    passwords = json.loads((stack.var / "nats" / "passwords.json").read_text())
    env = {**os.environ, "IM_NATS_URL": f"nats://127.0.0.1:{stack.ports['nats']}",
           "IM_MONGO_URL": f"mongodb://127.0.0.1:{stack.ports['mongo']}/?directConnection=true",
           "IM_NATS_USER": "admin", "IM_NATS_PASSWORD": passwords["admin"],
           # the demo signs its commands with the gateway's key, as the gateway does
           "IM_GATEWAY_KEY_FILE": str(stack.var / "gateway.key")}
    started = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "im_cli.main", "demo"], env=env,
                          stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if done.returncode != 0:
        raise SystemExit(f"im demo failed ({done.returncode}): {done.stderr.strip()}")
    return time.monotonic() - started


def erase(stack: Stack, rid: str) -> float:
    with httpx.Client(base_url=stack.base, headers=stack.auth(), timeout=60) as gw:
        r = gw.post(f"/api/v1/residents/{rid}/erasure",
                    json={"category": "other", "reason": "benchmark run"})
        assert r.status_code == 202, r.text
        started = time.perf_counter()  # from the approval (four eyes, as `make run` has it)
        r = gw.post(f"/api/v1/residents/{rid}/erasure/approve",
                    headers=stack.auth(subject="second-admin"))
        assert r.status_code == 202, r.text
        while not gw.get(f"/api/v1/residents/{rid}/erasure").json().get("complete"):
            time.sleep(0.01)
        return time.perf_counter() - started


async def plain_purge(stack: Stack, rid: str) -> tuple[float, int]:
    """The baseline: a purge of every subject ending in the id, in every stream."""
    nc = await stack.bus()
    try:
        started, purged = time.perf_counter(), 0
        for stream in await names(nc):
            for flt in subj.purge_filters(rid):
                body = await shredder.api(nc, f"STREAM.PURGE.{stream}", {"filter": flt})
                purged += int(body.get("purged", 0))
        return time.perf_counter() - started, purged
    finally:
        await nc.close()


async def secure_erase(stack: Stack, rid: str) -> tuple[float, int]:
    """The same step as the ledger now takes it (shredder.shred over every stream)."""
    nc = await stack.bus()
    try:
        started = time.perf_counter()
        done = await shredder.shred(nc, await names(nc), rid)
        return time.perf_counter() - started, sum(done.messages.values())
    finally:
        await nc.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--erasures", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="im-bench-erasure-") as tmp:
        stack = new_stack(Path(tmp))
        stack.start()
        try:
            print(f"demo city seeded in {seed(stack):.1f}s", flush=True)
            rids = candidates(args.erasures + 2)
            timings = [erase(stack, rid) for rid in rids[:args.erasures]]
            left = files_mentioning(stack.var, rids[:args.erasures])
            plain_s, plain_n = asyncio.run(plain_purge(stack, rids[-2]))
            shred_s, shred_n = asyncio.run(secure_erase(stack, rids[-1]))
        finally:
            stack.stop()
    print(f"machine: {os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.machine()}")
    print(f"one erasure, request to complete (demo city, {len(timings)} residents): "
          f"median {statistics.median(timings):.2f}s, min {min(timings):.2f}s, "
          f"max {max(timings):.2f}s")
    print(f"the bus step alone, same run: plain purge {plain_s * 1000:.0f} ms "
          f"({plain_n} messages, bytes left on disk) vs secure erase {shred_s * 1000:.0f} ms "
          f"({shred_n} messages erased, state files dropped)")
    print(f"files under the data directory still naming an erased resident: {len(left)}"
          + (f" {sorted(left)}" if left else ""))
    target = 3.0
    print(f"target (one erasure under a few seconds, {target:.0f}s): "
          f"{'met' if max(timings) < target else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
