"""Read-side benchmark (issue #16): the demo city in a fresh embedded stack, then each read
path with 1 client (p50, p99) and with 50 clients (req/s, p50, p99), beside a bare
Litestar endpoint on the same uvicorn returning a JSON body of the same size as a resident
overview (the stack's ceiling on this machine), each as a share of it. `GET /api/v1/stats`
is also driven while `im demo` seeds, counting answers that missed a live service.

    uv run python bench/reads.py [--seconds 10] [--clients 50]

Targets on 2 cores: overview 1-client p50 <= 10 ms; overview at 50 clients >= 25% of the
bare endpoint's req/s; stats never missing a live service and p99 <= 100 ms, also while
seeding. Always exits 0: a benchmark, not a test."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

sys.path.append(str(Path(__file__).parent))

from stack import admin_token, seeding, start_stack, wait_ready

from im_cli.demo.city import build
from im_cli.embedded import free_port

BARE_APP = """
import sys
import uvicorn
from litestar import Litestar, MediaType, get

BODY = b"x" * int(sys.argv[2])

@get("/bare", media_type=MediaType.JSON)
async def bare() -> bytes:
    return b'{"pad": "' + BODY + b'"}'

uvicorn.run(Litestar([bare]), host="127.0.0.1", port=int(sys.argv[1]), log_level="warning",
            log_config=None, access_log=False)
"""


@dataclass
class Run:
    requests: int
    seconds: float
    latencies: list[float]
    missing: int  # answers that listed a service as missing

    @property
    def rate(self) -> float:
        return self.requests / self.seconds

    def pct(self, q: float) -> float:
        lat = sorted(self.latencies)
        return lat[min(len(lat) - 1, int(len(lat) * q))] * 1000 if lat else float("nan")


async def drive(port: int, token: str, paths: Callable[[int], str], clients: int,
                seconds: float, until: Callable[[], bool] | None = None) -> Run:
    latencies: list[float] = []
    missing = 0
    started = time.monotonic()
    stop = started + seconds

    def going() -> bool:
        return until() if until is not None else time.monotonic() < stop

    async def client(n: int) -> None:
        nonlocal missing
        limits = httpx.Limits(max_connections=1)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", limits=limits,
                                     headers={"Authorization": f"Bearer {token}"}) as c:
            i = n
            while going():
                t = time.perf_counter()
                r = await c.get(paths(i))
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    raise SystemExit(f"GET {paths(i)} answered {r.status_code}: {r.text[:200]}")
                if "stats" in paths(i) and r.json().get("missing"):
                    missing += 1
                i += clients

    await asyncio.gather(*(client(n) for n in range(clients)))
    return Run(len(latencies), time.monotonic() - started, latencies, missing)


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=10)
    args = p.parse_args()
    city = build()
    residents = [r.id for r in city.residents]
    shelters = [s.id for s in city.sites if s.kind == "shelter"]
    with tempfile.TemporaryDirectory(prefix="im-bench-reads-") as tmp:
        var = Path(tmp)
        proc, ports = start_stack(var)
        bare: subprocess.Popen[bytes] | None = None
        try:
            wait_ready(ports["gateway"])
            token = admin_token(var)
            gw = ports["gateway"]
            print("seeding the demo city; GET /api/v1/stats with 1 client meanwhile ...")
            demo = seeding(var, ports["nats"])
            seeded_at = time.monotonic()
            during = asyncio.run(drive(gw, token, lambda i: "/api/v1/stats", 1, 0,
                                       until=lambda: demo.poll() is None))
            print(f"  seeded in {time.monotonic() - seeded_at:.1f} s (exit {demo.returncode})")
            size = len(httpx.get(f"http://127.0.0.1:{gw}/api/v1/residents/{residents[0]}",
                                 headers={"Authorization": f"Bearer {token}"}).content)
            bare_port = free_port()
            bare = subprocess.Popen([sys.executable, "-c", BARE_APP, str(bare_port),
                                     str(max(size - 11, 0))])
            wait_bare(bare_port)
            paths: dict[str, Callable[[int], str]] = {
                "bare endpoint (ceiling)": lambda i: "/bare",
                "resident overview": lambda i: "/api/v1/residents/"
                                               + residents[i % len(residents)],
                "city stats": lambda i: "/api/v1/stats",
                "residents?site=": lambda i: "/api/v1/residents?site="
                                             + shelters[i % len(shelters)],
            }
            results: dict[str, tuple[Run, Run]] = {}
            fallbacks_before = fallbacks(var)
            for name, path in paths.items():
                port = bare_port if name.startswith("bare") else gw
                one = asyncio.run(drive(port, token, path, 1, args.seconds))
                many = asyncio.run(drive(port, token, path, args.clients, args.seconds))
                results[name] = (one, many)
            slow = fallbacks(var) - fallbacks_before
        finally:
            if bare is not None:
                bare.terminate()
                bare.wait(10)
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    ceiling = results["bare endpoint (ceiling)"][1].rate
    print(f"\nread benchmark ({os.cpu_count()} cores, Python {platform.python_version()}, "
          f"{platform.machine()}); overview body {size} bytes")
    print(f"  {'path':26} {'1 client p50':>13} {'p99':>8} | {args.clients} clients "
          f"{'req/s':>7} {'p50':>8} {'p99':>8} {'share':>6}")
    for name, (one, many) in results.items():
        print(f"  {name:26} {one.pct(0.5):10.1f} ms {one.pct(0.99):5.1f} ms | "
              f"{many.rate:18.0f} {many.pct(0.5):5.1f} ms {many.pct(0.99):5.1f} ms "
              f"{many.rate / ceiling:6.0%}")
    missing = sum(r.missing for pair in results.values() for r in pair if r is not None)
    print(f"  stats while seeding: {during.requests} answers, p50 {during.pct(0.5):.1f} ms, "
          f"p99 {during.pct(0.99):.1f} ms, {during.missing} missing a service")
    print(f"  stats after seeding: {missing} answers missing a service")
    print(f"  nx-27017 aggregation fallbacks logged while reading: {slow}")
    overview = results["resident overview"]
    stats_ok = (max(during.pct(0.99), results["city stats"][1].pct(0.99)) <= 100
                and not (missing or during.missing))
    print("targets: overview 1-client p50 <= 10 ms: "
          f"{met(overview[0].pct(0.5) <= 10)}; overview at {args.clients} clients >= 25% "
          f"of bare: {met(overview[1].rate >= 0.25 * ceiling)}; stats p99 <= 100 ms and "
          f"never missing: {met(stats_ok)}")


def met(ok: bool) -> str:
    return "met" if ok else "NOT met"


def fallbacks(var: Path) -> int:
    """Warnings of nx-27017 about an aggregation it could not run in SQL (a slow path)."""
    log = var / "mongo" / "nx-27017.log"
    if not log.exists():
        return 0
    return sum("aggregation fallback" in line
               for line in log.read_text(errors="replace").splitlines())


def wait_bare(port: int) -> None:
    for _ in range(100):
        try:
            httpx.get(f"http://127.0.0.1:{port}/bare", timeout=1)
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise SystemExit("the bare endpoint did not come up")


if __name__ == "__main__":
    main()
