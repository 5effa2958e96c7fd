"""The gateway against the real NATS server: health, live services, HTTP errors."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from typing import Any

import httpx
import pytest

from im_cli.embedded import free_port
from im_cli.testing import eventually
from im_runtime.service import ServiceRuntime
from support.probe import spec as probe_spec

pytestmark = pytest.mark.integration


@pytest.fixture
async def gw(settings, kit) -> AsyncIterator[Any]:
    async with kit.gateway_for(settings, discovery_timeout=0.3) as g:
        yield g


@pytest.fixture
def client(gw) -> httpx.AsyncClient:
    return gw.client  # type: ignore[no-any-return]


async def test_health_is_ok_when_connected(client):
    r = await client.get("/health")
    assert r.status_code == 200
    assert r.json() == {"status": "ok"}


async def test_live_and_ready_when_connected(client):
    assert (await client.get("/livez")).json() == {"status": "ok"}
    r = await client.get("/readyz")
    assert (r.status_code, r.json()) == (200, {"status": "ok"})


async def test_health_is_503_without_nats(settings, kit):
    dead = replace(settings, nats_url=f"nats://127.0.0.1:{free_port()}")
    async with kit.gateway_for(dead, connect_wait=0.0) as g:
        r = await g.client.get("/health")
        assert r.status_code == 503
        assert r.json()["status"] == "unavailable"
        # not ready, but alive: Kubernetes must not restart it for a NATS outage
        r = await g.client.get("/readyz")
        assert r.status_code == 503 and "not connected" in r.json()["detail"]
        assert (await g.client.get("/livez")).status_code == 200
        assert (await g.get("/api/v1/services")).status_code == 503
        r = await g.get("/api/v1/stats")
        assert r.status_code == 503 and r.json()["details"]["service"] == "bus"
        r = await g.post("/api/v1/commands/housing/list_sites", {})
        assert r.status_code == 503


async def test_not_ready_without_its_database(settings, kit):
    gone = replace(settings, mongo_url=f"mongodb://127.0.0.1:{free_port()}/?directConnection=true")
    async with kit.gateway_for(gone) as g:
        r = await g.client.get("/readyz")
        assert r.status_code == 503 and r.json()["detail"].startswith("database unreachable")
        assert (await g.client.get("/livez")).status_code == 200


async def test_services_needs_a_token(client):
    assert (await client.get("/api/v1/services")).status_code == 401


async def test_services_lists_a_running_service(gw, settings):
    rt = ServiceRuntime(probe_spec, settings)
    await rt.start()
    try:
        async def probe_listed():
            r = await gw.get("/api/v1/services", role="auditor")
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
        body = (await gw.get("/api/v1/services")).json()
        return not any(i["id"] == settings.instance_id
                       for s in body for i in s["instances"])

    await eventually(probe_gone, timeout=10)


async def test_unknown_path_is_404(client):
    r = await client.get("/api/v1/nothing-here")
    assert r.status_code == 404
    assert r.json()["code"] == "not_found" and set(r.json()) == {"code", "message", "details"}


async def test_wrong_method_is_405(client):
    assert (await client.post("/health")).status_code == 405
    assert (await client.delete("/api/v1/services")).status_code == 405


async def test_bad_parameters_are_400_in_the_shared_shape(gw):
    r = await gw.get("/api/v1/audit", role="auditor", params={"limit": 0})
    assert r.status_code == 400 and r.json()["code"] == "bad_request"


async def test_openapi_schema_lists_the_routes(client):
    r = await client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    assert "/health" in paths and "/api/v1/services" in paths
