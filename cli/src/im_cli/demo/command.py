"""`im demo`: seed the Hannover demo city into a running stack, through the bus."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

import msgspec
import nats

from contracts import subjects as subj
from im_cli.commands import CliError, _settings, admin_settings
from im_cli.demo import hooks
from im_cli.demo.city import build
from im_cli.demo.seed import Progress, Seeder, SeedError, plan_size, seed_city
from im_cli.progress import bar
from im_runtime.connection import servers
from im_runtime.discovery import gather, instances

# Whose events the demo causes: the services' own and the operators' (im.ops).
SOURCES = ("housing", "education", "employment", "counselling", subj.OPERATOR)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    demo = sub.add_parser("demo", help="seed the Hannover demo city through the bus "
                                       "(running it again changes nothing)")
    demo.add_argument("--parallel", type=int, default=48, help="commands in flight (48)")
    demo.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    try:
        seconds, stats = asyncio.run(seed(args.parallel))
    except SeedError as exc:
        raise CliError(f"demo seeding failed: {exc}") from exc
    print(f"\nseeded the demo city in {seconds:.1f}s through the bus")
    for service, section in sorted(stats.items()):
        print(f"  {service}: {msgspec.json.encode(section).decode()[:300]}")
    return 0


def gateway_secret() -> bytes | None:
    """The gateway's key (var/gateway.key under `im up`), to sign the demo's commands as
    the gateway does; None where there is none (services then take actors unsigned)."""
    from gateway.keys import resolve_key
    from im_runtime.settings import SettingsError

    try:
        return resolve_key(os.environ)
    except SettingsError:
        return None


async def seed(parallel: int = 48) -> tuple[float, dict[str, object]]:
    settings = admin_settings(_settings())
    nc = await nats.connect(servers(settings.nats_url), **settings.nats_options())  # type: ignore[arg-type]
    try:
        running = set(await instances(nc, timeout=1.0))
        if "housing" not in running:
            raise CliError("the housing service is not running: start the stack (make run)")
        for missing in sorted({"education", "employment", "counselling"} - running):
            print(f"note: {missing} is not running; its part of the city is skipped",
                  file=sys.stderr)
        city = build()
        plugins = hooks.installed(running)  # plugins' parts of the city (im.demo)
        total = plan_size(city) + sum(hook.size(city) for _, hook in plugins)
        started = time.monotonic()
        with bar("demo city", total) as shown:
            seeder = Seeder(nc, city, running, Progress(shown), parallel, gateway_secret())
            await seed_city(seeder)
            pairs = [(service, source) for service in running for source in SOURCES
                     if source != service]
            seeder.progress.label = "waiting for the services"
            await seeder.settle(pairs, timeout=120)
            for _, hook in plugins:
                await hook.seed(seeder)
            if plugins:
                await seeder.settle(pairs, timeout=120)
            seeder.progress.label = "seeded"
            shown.finish()
        seconds = time.monotonic() - started
        answers = await gather(nc, "im.qry.city_stats", b"{}", 2.0, expect=len(running))
        stats = {a["service"]: a["section"] for a in map(msgspec.json.decode, answers)
                 if a.get("status") == "ok"}
        return seconds, stats
    finally:
        await nc.drain()
