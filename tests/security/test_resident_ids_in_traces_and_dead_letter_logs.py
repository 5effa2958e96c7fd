"""Attack: read residents' ids from what operations collect. An event's subject ends in
the resident it is about; the consumer's span named it (`messaging.destination.name`)
and so did the dead-letter log line, so anyone with the tracing backend or the logs
could follow one resident through the services. Spans and logs now carry the subject's
template (`im.evt.housing.resident_registered.{resident_id}`)."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from contracts import subjects as subj
from im_cli import natsauth
from im_runtime.actors import service_key
from support.attack import Stack, eventually, rid

ROOT = Path(__file__).resolve().parents[2]
PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"


def start(service: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    with open(log, "wb") as out:
        return subprocess.Popen([sys.executable, "-m", "im_cli.main", "run", service],
                                env=env, stdout=out, stderr=subprocess.STDOUT)


@pytest.mark.flow
async def test_a_dead_lettered_event_leaves_no_resident_id_in_spans_or_logs(
        stack: Stack, tmp_path: Path) -> None:
    user = natsauth.service_user("education")
    traces, logs = tmp_path / "spans.jsonl", tmp_path / "education.log"
    env = {**os.environ, "IM_NATS_URL": stack.nats.url, "IM_MONGO_URL": stack.mongo_url,
           "IM_DB_PREFIX": stack.prefix, "IM_NATS_USER": user,
           "IM_NATS_PASSWORD": stack.auth.passwords[user], "IM_MAX_DELIVER": "1",
           "IM_ACTOR_KEY": service_key(stack.secret, "education").hex(),
           "IM_TRACE_FILE": str(traces), "OTEL_BSP_SCHEDULE_DELAY": "50",
           "IM_LOG_FORMAT": "json"}
    proc = start("education", env, logs)
    resident = rid("r")
    try:
        async with stack.as_user(natsauth.ADMIN) as admin:
            async def consuming() -> bool:
                try:
                    await admin.js.consumer_info(subj.event_stream("housing"),
                                                 "education__housing")
                    return True
                except Exception:
                    return False

            assert await eventually(consuming, timeout=30, interval=0.2), logs.read_text()
            subject = subj.event("housing", "resident_registered", resident)
            # Handled, in a trace the header starts; then one that is not a CloudEvent,
            # dead-lettered at once.
            example = json.loads((ROOT / "contracts/examples/"
                                  "im.housing.resident_registered.v1@1.json").read_text())
            event = json.dumps(example["body"]).replace("r-3f9a1c22b7e4", resident)
            await admin.js.publish(subject, event.encode(), headers={"traceparent": PARENT})
            await admin.js.publish(subject, b"{not json", headers={"traceparent": PARENT})

            async def dead_lettered() -> bool:
                return "dead-lettered" in logs.read_text() and traces.exists() and (
                    "resident_registered" in traces.read_text())

            assert await eventually(dead_lettered, timeout=20, interval=0.2), \
                logs.read_text()[-2000:]
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 10)
    template = "im.evt.housing.resident_registered.{resident_id}"
    assert template in logs.read_text() and template in traces.read_text()
    assert resident not in logs.read_text()
    assert resident not in traces.read_text()
