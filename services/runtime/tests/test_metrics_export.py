"""What a service process exports on /metrics, scraped from a real running service: the
runtime's own families under Prometheus' naming conventions, the standard process and GC
collectors, and a build-info gauge; never a resident's id."""

from __future__ import annotations

import json
import uuid

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from im_runtime.service import ServiceRuntime
from support.probe import spec

pytestmark = pytest.mark.integration


async def test_a_service_exports_conventional_process_and_build_metrics(settings, nc):
    rt = ServiceRuntime(spec, settings)
    await rt.start()
    try:
        rid = f"r-{uuid.uuid4().hex[:10]}"
        reply = await nc.request("im.cmd.probe.add", json.dumps({"resident_id": rid}).encode(),
                                 timeout=5)
        assert json.loads(reply.data)["status"] == "ok"
        async with httpx.AsyncClient() as client:
            scrape = await client.get(f"http://127.0.0.1:{rt.health.port}/metrics", timeout=5)
    finally:
        await rt.stop()
    assert scrape.status_code == 200 and rid not in scrape.text
    families = {f.name: f for f in text_string_to_metric_families(scrape.text)}
    histograms = [n for n, f in families.items() if f.type == "histogram"]
    assert histograms and all(n.endswith("_duration_seconds") for n in histograms), histograms
    handled = {s.labels["kind"]: s.value for s in families["im_handler_duration_seconds"].samples
               if s.name.endswith("_count")}
    assert handled["command"] >= 1
    [info] = families["im_build_info"].samples
    assert info.value == 1 and info.labels["service"] == spec.name
    assert info.labels["version"] == spec.version and info.labels["python"]
    assert families["process_resident_memory_bytes"].samples[0].value > 0
    assert families["process_cpu_seconds"].samples[0].value > 0
    assert {s.labels["generation"] for s in families["python_gc_collections"].samples} == {
        "0", "1", "2"}
    counters = [n for n, f in families.items() if f.type == "counter"]
    assert all(s.name.endswith(("_total", "_created")) for n in counters
               for s in families[n].samples), counters
