"""`nats micro info/stats <service>` against a real nats-server: each service instance
lists its command and query subjects as endpoints ($SRV.INFO) and counts their requests,
errors and processing time ($SRV.STATS), as the nats CLI reads them."""

from __future__ import annotations

import json
import uuid

import pytest
from nats.micro.service import ServiceInfo, ServiceStats

from im_runtime.service import ServiceRuntime
from support.probe import spec

pytestmark = pytest.mark.integration


async def test_info_and_stats_show_every_command_and_query_endpoint(settings, nc):
    rt = ServiceRuntime(spec, settings)
    await rt.start()
    try:
        rid = f"r-{uuid.uuid4().hex[:10]}"
        ok = await nc.request("im.cmd.probe.add", json.dumps({"resident_id": rid}).encode(),
                              timeout=5)
        assert json.loads(ok.data)["status"] == "ok"
        bad = await nc.request("im.cmd.probe.add", b'{"resident_id": 7}', timeout=5)
        assert json.loads(bad.data)["code"] == "bad_request"
        await nc.request("im.qry.resident_overview.probe",
                         json.dumps({"resident_id": rid}).encode(), timeout=5)
        instance = rt._micro.id
        info = json.loads((await nc.request(f"$SRV.INFO.probe.{instance}", b"",
                                            timeout=5)).data)
        stats = json.loads((await nc.request(f"$SRV.STATS.probe.{instance}", b"",
                                             timeout=5)).data)
    finally:
        await rt.stop()
    assert info["type"] == "io.nats.micro.v1.info_response" and info["name"] == "probe"
    endpoints = {e["subject"]: e for e in info["endpoints"]}
    effective = rt.spec  # the plugin's routes and the runtime's own (erasure, retention)
    assert set(endpoints) == {f"im.cmd.probe.{c.name}" for c in effective.commands} | {
        s for q in effective.queries for s in (f"im.qry.{q.name}", f"im.qry.{q.name}.probe")}
    assert {"im.cmd.probe.add", "im.qry.resident_overview",
            "im.qry.resident_overview.probe"} <= set(endpoints)
    assert endpoints["im.cmd.probe.add"]["queue_group"] == "probe"
    assert endpoints["im.cmd.probe.add"]["metadata"]["kind"] == "command"
    assert endpoints["im.qry.resident_overview"]["metadata"]["kind"] == "query"
    assert stats["type"] == "io.nats.micro.v1.stats_response"
    counted = {e["subject"]: e for e in stats["endpoints"]}
    add = counted["im.cmd.probe.add"]
    assert add["num_requests"] == 2 and add["num_errors"] == 1
    assert add["last_error"] == "bad_request"  # the code only: a message may name a person
    assert add["processing_time"] > 0 and add["average_processing_time"] > 0
    assert counted["im.qry.resident_overview.probe"]["num_requests"] == 1
    assert counted["im.qry.resident_overview"]["num_requests"] == 0
    assert rid not in json.dumps(stats)
    # What micro clients (the nats CLI, nats-py) read back parses as the protocol says.
    assert {e.subject for e in ServiceInfo.from_dict(info).endpoints} == set(endpoints)
    assert ServiceStats.from_dict(stats).endpoints[0].num_requests >= 0
