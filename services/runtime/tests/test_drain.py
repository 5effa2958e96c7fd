"""SIGTERM stops a service cleanly: it leaves the bus, exits 0, and every event it
handled was acked and its effects relayed, so nothing waits for the next instance."""

import asyncio
import signal

import msgspec
import pytest

from contracts import subjects as subj
from contracts import wrap
from im_cli.testing import eventually, started
from im_runtime.service import consumer_name
from support.probe import Pinged

pytestmark = pytest.mark.integration


async def test_sigterm_drains_and_exits_cleanly(spawn, nc, test_id):
    js = nc.jetstream()
    proc = spawn("support.probe:spec")
    await started(nc, "probe", 1)
    rid = f"d{test_id}"
    for _ in range(50):
        event = wrap(Pinged(resident_id=rid), source="tester")
        await js.publish(subj.event("tester", "pinged", rid), msgspec.json.encode(event),
                         headers={"Nats-Msg-Id": event.id})
    await eventually(lambda: _acked(js), timeout=60)
    proc.send_signal(signal.SIGTERM)
    assert await asyncio.to_thread(proc.wait, 15) == 0
    info = await js.stream_info(subj.event_stream("probe"),
                                subjects_filter=subj.event("probe", "counted", rid))
    assert info.state.subjects and info.state.subjects.get(
        subj.event("probe", "counted", rid)) == 50


async def _acked(js) -> bool:
    info = await js.consumer_info(subj.event_stream("tester"), consumer_name("probe", "tester"))
    return info.num_pending == 0 and info.num_ack_pending == 0
