"""When `ServiceRuntime.start()` returns, the server has every request subscription: a
command sent at once is answered, never met by "no responders". (nats-py 2.16's
`flush()` can overtake a SUB still in the client's buffer; this failed about one start
in five to fifteen before `connection.on_server`.)"""

from __future__ import annotations

import json

import pytest

from im_runtime.service import ServiceRuntime
from support.probe import spec

pytestmark = pytest.mark.integration


async def test_a_request_right_after_start_is_answered(settings, nc):
    for i in range(20):
        rt = ServiceRuntime(spec, settings)
        await rt.start()
        try:
            reply = await nc.request("im.cmd.probe.add",
                                     json.dumps({"resident_id": f"r-ready{i}"}).encode(),
                                     timeout=5)
            assert json.loads(reply.data)["status"] == "ok", i
        finally:
            await rt.stop()
