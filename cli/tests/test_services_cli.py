import asyncio
import os
import subprocess
import sys

import pytest

from im_runtime.service import ServiceRuntime
from support.probe import spec

pytestmark = pytest.mark.integration


async def test_im_services_lists_installed_and_running(settings):
    rt = ServiceRuntime(spec, settings)
    await rt.start()
    try:
        out = await asyncio.to_thread(
            subprocess.run, [sys.executable, "-m", "im_cli.main", "services", "--timeout", "1"],
            capture_output=True, text=True, env={**os.environ, "IM_NATS_URL": settings.nats_url})
    finally:
        await rt.stop()
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines()[1:]}
    assert rows["housing"][1] == "1.0.0"  # installed through its entry point
    assert rows["probe"][1:] == ["-", "1", "1.0.0"]  # running, not installed


def test_im_services_says_when_the_bus_is_down():
    out = subprocess.run([sys.executable, "-m", "im_cli.main", "services"], capture_output=True,
                         text=True, env={**os.environ, "IM_NATS_URL": "nats://127.0.0.1:1"})
    assert out.returncode == 0
    assert "bus not reachable at nats://127.0.0.1:1" in out.stderr
    assert "housing" in out.stdout


def test_im_services_routes_prints_the_one_hop_map_with_the_runtimes_own_routes():
    out = subprocess.run([sys.executable, "-m", "im_cli.main", "services", "--routes"],
                         capture_output=True, text=True, check=True)
    rows = [line.split() for line in out.stdout.splitlines()[1:]]
    assert rows and all(len(r) >= 5 for r in rows)
    by = {(r[0], r[2]): r for r in rows}
    from im_runtime.plugins import installed

    for name, svc in installed().items():
        # the erasure consumer every service gets from the runtime is on the map
        erasure = by.get((name, "im.evt.privacy.erasure_requested.*"))
        assert erasure is not None and erasure[3].endswith("on_erasure"), name
        assert erasure[4] == f"{name}__privacy"
        for command in svc.commands:
            assert (name, f"im.cmd.{name}.{command.name}") in by
        referral = by.get((name, "im.evt.counselling.referral_requested.*"))
        if referral is not None and svc.referral_topics:  # the topics it answers, declared
            where = " ".join(referral[5:])
            assert where == f"topic in ({', '.join(svc.referral_topics)})", (name, where)


async def test_the_routes_are_what_the_runtime_subscribes(settings):
    from im_runtime.routes import routes

    rt = ServiceRuntime(spec, settings)
    await rt.start()
    try:
        subscribed = {subject for subject, _ in rt.requests._subs}
        durables = {pull.durable for pull in rt._pulls}
    finally:
        await rt.stop()
    mapped = routes(spec)
    assert {r.subject for r in mapped if r.kind != "event"} == subscribed
    assert {r.via for r in mapped if r.kind == "event"} == durables
