"""The gateway's Prometheus metrics: request latency by route template and method, and the
services that gave a scatter-gather no section, by service."""

from __future__ import annotations

from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from employment.plugin import spec as employment_spec
from housing.plugin import spec as housing_spec
from im_cli.testing import eventually

pytestmark = pytest.mark.flow


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    return {(s.name, frozenset(s.labels.items())): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


async def test_latency_by_route_and_missing_services_by_name(servers, kit):
    settings = kit.settings_for(servers)
    async with kit.running(housing_spec, employment_spec, settings=settings) as (_, emp), \
            kit.gateway_for(settings, deadline=0.5) as gw:
        async def both() -> Any:
            r = await gw.get("/api/v1/stats")
            return r.status_code == 200 and {"housing", "employment"} <= set(r.json()["sections"])

        await eventually(both, timeout=15, interval=0.1)
        resident = kit.rid("r")
        await gw.get(f"/api/v1/residents/{resident}")
        await emp.stop()
        r = await gw.get("/api/v1/stats")
        assert r.json()["missing"] == ["employment"]

        scrape = await gw.client.get("/metrics")  # no token: Prometheus scrapes it as is
        assert scrape.status_code == 200
        assert scrape.headers["content-type"].startswith("text/plain")
        assert resident not in scrape.text  # route templates, never the ids in a path
        got = samples(scrape.text)

    def value(name: str, **labels: str) -> float:
        return got.get((name, frozenset(labels.items())), 0.0)

    assert value("im_gateway_missing_sections_total", query="city_stats",
                 service="employment") == 1
    assert value("im_gateway_missing_sections_total", query="city_stats",
                 service="housing") == 0
    stats = {"method": "GET", "route": "/api/v1/stats"}
    assert value("im_gateway_request_duration_seconds_count", **stats) >= 2
    assert value("im_gateway_request_duration_seconds_bucket", **stats, le="+Inf") >= 2
    assert value("im_gateway_request_duration_seconds_count", method="GET",
                 route="/api/v1/residents/{resident_id}") == 1
    assert value("im_gateway_responses_total", **stats, status="200") >= 2
    # The standard process and GC families, and what runs, beside the gateway's own.
    assert value("process_resident_memory_bytes") > 0
    assert value("python_gc_collections_total", generation="0") >= 0
    [(_, build)] = [(n, dict(labels)) for n, labels in got if n == "im_gateway_build_info"]
    assert value("im_gateway_build_info", **build) == 1 and build["version"] != "unknown"
