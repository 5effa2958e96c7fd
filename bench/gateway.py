"""Gateway benchmark: seeds the demo city into a fresh embedded stack (`im up` + `im demo`,
printing the seeding time: bench/demo figure), then drives GET /api/v1/residents/{id}
with 50 concurrent clients and prints p50 / p99 / requests per second.

    uv run python bench/gateway.py [--clients 50] [--seconds 20]

Targets (issue #6): p50 <= 10 ms, p99 <= 40 ms; seeding <= 60 s. Always exits 0."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import sys
import tempfile
import time
from pathlib import Path

import httpx

# This script is named like the package it measures: its folder goes to the end of the
# import path, so that `gateway` is the package and `stack` its neighbour.
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).parent]
sys.path.append(str(Path(__file__).parent))

from stack import admin_token, seed, start_stack, wait_ready  # noqa: E402

from im_cli.demo.city import build  # noqa: E402


async def drive(port: int, token: str, clients: int, seconds: float) -> list[float]:
    ids = [p.id for p in build().residents]
    latencies: list[float] = []
    stop = time.monotonic() + seconds

    async def client(n: int) -> None:
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}",
                                     headers={"Authorization": f"Bearer {token}"}) as c:
            i = n
            while time.monotonic() < stop:
                t = time.perf_counter()
                r = await c.get(f"/api/v1/residents/{ids[i % len(ids)]}")
                latencies.append(time.perf_counter() - t)
                if r.status_code != 200:
                    raise SystemExit(f"GET answered {r.status_code}: {r.text[:200]}")
                i += clients

    await asyncio.gather(*(client(n) for n in range(clients)))
    return latencies


def main() -> None:
    p = argparse.ArgumentParser()
    p.add_argument("--clients", type=int, default=50)
    p.add_argument("--seconds", type=float, default=20)
    args = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="im-bench-gw-") as tmp:
        var = Path(tmp)
        proc, ports = start_stack(var)
        try:
            wait_ready(ports["gateway"])
            seeded = seed(var, ports["nats"])
            token = admin_token(var)
            lat = sorted(asyncio.run(drive(ports["gateway"], token, args.clients, args.seconds)))
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(30)
    p50, p99 = lat[len(lat) // 2] * 1000, lat[int(len(lat) * 0.99)] * 1000
    print(f"gateway benchmark ({os.cpu_count()} cores, Python {platform.python_version()})")
    print(f"  demo seeding          {seeded:8.1f} s    (target <= 60 s)")
    print(f"  GET /residents/{{id}}  {len(lat) / args.seconds:8.0f} req/s with {args.clients} "
          f"clients")
    print(f"  p50                   {p50:8.1f} ms   (target <= 10 ms)")
    print(f"  p99                   {p99:8.1f} ms   (target <= 40 ms)")


if __name__ == "__main__":
    main()
