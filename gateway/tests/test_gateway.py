"""The gateway against the real NATS server: health, live services, HTTP errors."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest
from litestar import Litestar

from gateway.app import create_app
from im_cli.embedded import free_port
from im_cli.testing import eventually
from im_runtime.service import ServiceRuntime
from support.probe import spec as probe_spec

pytestmark = pytest.mark.integration


@contextlib.asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """Run the app's lifespan in a task of its own (its task group must be entered and
    left in one task; pytest-asyncio sets fixtures up and tears them down in different
    ones) and talk to it in-process."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def host() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(host())
    await asyncio.wait([task, asyncio.create_task(started.wait())],
                       return_when=asyncio.FIRST_COMPLETED)
    if task.done():
        task.result()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://gateway.test") as c:
            yield c
    finally:
        stop.set()
        await task


@pytest.fixture
async def client(settings) -> AsyncIterator[httpx.AsyncClient]:
    async with serving(create_app(settings, discovery_timeout=0.3)) as c:
        yield c


async def test_health_is_ok_when_connected(client):
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_health_is_503_without_nats(settings):
    dead = replace(settings, nats_url=f"nats://127.0.0.1:{free_port()}")
    async with serving(create_app(dead, connect_wait=0.0)) as c:
        r = await c.get("/health")
        assert r.status_code == 503
        assert r.json()["status"] == "unavailable"
        assert (await c.get("/api/v1/services")).status_code == 503


async def test_services_lists_a_running_service(client, settings):
    rt = ServiceRuntime(probe_spec, settings)
    await rt.start()
    try:
        async def probe_listed():
            r = await client.get("/api/v1/services")
            assert r.status_code == 200
            body = r.json()
            assert isinstance(body, list)
            assert [s["name"] for s in body] == sorted(s["name"] for s in body)
            return next((s for s in body if s["name"] == "probe" and any(
                i["id"] == settings.instance_id for i in s["instances"])), None)

        probe = await eventually(probe_listed, timeout=10)
        assert probe["versions"] == ["1.0.0"]
        mine = [i for i in probe["instances"] if i["id"] == settings.instance_id]
        assert len(mine) == 1
        assert mine[0]["version"] == "1.0.0"
        assert mine[0]["health"].startswith("http://127.0.0.1:")
    finally:
        await rt.stop()

    async def probe_gone():
        body = (await client.get("/api/v1/services")).json()
        return not any(i["id"] == settings.instance_id
                       for s in body for i in s["instances"])

    await eventually(probe_gone, timeout=10)


async def test_unknown_path_is_404(client):
    assert (await client.get("/api/v1/nothing-here")).status_code == 404


async def test_wrong_method_is_405(client):
    assert (await client.post("/health")).status_code == 405
    assert (await client.delete("/api/v1/services")).status_code == 405


async def test_openapi_schema_lists_the_routes(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/health" in paths and "/api/v1/services" in paths
