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
