"""The slim operator package: it needs nothing of the platform but the contracts and
nats-py, and its publisher and feedback reader work against the real NATS server."""

from __future__ import annotations

import json
import subprocess
import sys
import time
import uuid
from importlib.metadata import requires

import nats
import pytest

from contracts import subjects as subj
from contracts import wrap
from contracts.codec import encode_event
from contracts.feedback import ReferralReceivedFeedback
from im_cli import natsauth
from im_operator import PublishError, fetch, prepare, send

# The platform's own code and what only it needs: an operator installs none of it.
HEAVY = ("im_cli", "im_runtime", "gateway", "faststream", "pymongo", "litestar")


@pytest.mark.unit
def test_it_depends_on_the_contracts_and_nats_only():
    names = {r.split(">")[0].split("=")[0].split("<")[0].strip() for r in requires("im-operator")}
    assert names == {"im-contracts", "msgspec", "nats-py"}
    code = ("import sys, im_operator; print(sorted({m.split('.')[0] for m in sys.modules}))")
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            check=True).stdout
    assert not [m for m in HEAVY if f"'{m}'" in loaded], loaded


@pytest.mark.unit
def test_an_event_that_breaks_the_contract_is_refused_before_sending():
    with pytest.raises(PublishError, match="category"):
        prepare(json.dumps({"type": "im.operator.session_recorded.v1", "resident_id": "r-1",
                            "site_id": "s-1", "session_id": "x", "category": "gossip",
                            "held_on": "2026-01-02", "duration_minutes": 5,
                            "counsellor": "c"}).encode(), "op-a")


@pytest.mark.unit
def test_the_type_is_read_from_the_envelope_and_written_once():
    data = {"resident_id": "r-1", "site_id": "s-1", "referral_id": "ref-1",
            "topic": "housing_search", "requested_on": "2026-01-02"}
    envelope = {"specversion": "1.0", "id": "e1", "source": "op-a", "subject": "r-1",
                "type": "im.operator.referral_requested.v1", "time": "2026-01-02T10:00:00Z",
                "datacontenttype": "application/json", "data": data}
    whole = prepare(json.dumps(envelope).encode(), "op-a")  # no type inside data: fine
    assert whole.subject == "im.ops.op-a.referral_requested.r-1"
    with pytest.raises(PublishError, match=r"\$\.data\.type"):  # repeated, but another
        prepare(json.dumps({**envelope, "data": {**data, "type": "im.operator.session_recorded.v1"}
                            }).encode(), "op-a")
    # bare data names its type itself; the CloudEvent made of it says it once
    bare = prepare(json.dumps({"type": "im.operator.referral_requested.v1", **data}).encode(),
                   "op-a")
    sent = json.loads(bare.body)
    assert sent["type"] == "im.operator.referral_requested.v1" and "type" not in sent["data"]
    with pytest.raises(PublishError, match="source is 'op-a', not operator 'op-b'"):
        prepare(json.dumps(envelope).encode(), "op-b")
    with pytest.raises(PublishError, match="expected a JSON object"):
        prepare(b"[1]", "op-a")


@pytest.mark.integration
async def test_it_publishes_and_reads_feedback(servers):
    op, rid = f"op-{uuid.uuid4().hex[:6]}", f"r-{uuid.uuid4().hex[:8]}"
    admin = await nats.connect(servers.nats_url)
    try:
        await natsauth.provision(admin, [op])  # the streams and fb_<op>, as `im up` does
        event = prepare(json.dumps({
            "type": "im.operator.referral_requested.v1", "resident_id": rid,
            "site_id": "s-1", "referral_id": "ref-1", "topic": "housing_search",
            "requested_on": "2026-01-02"}).encode(), op)
        seq = await send(servers.nats_url, event)
        stored = await admin.jetstream().get_msg(subj.OPS_STREAM, seq)
        assert stored.subject == f"im.ops.{op}.referral_requested.{rid}"
        assert stored.headers and stored.headers["Nats-Msg-Id"] == event.id
        answer = wrap(ReferralReceivedFeedback(operator_id=op, referral_id="ref-1", resident_id=rid,
                                       site_id="s-1", topic="housing_search", owner="housing"),
                      source="counselling")
        await admin.jetstream().publish(subj.feedback(op, "referral_received", rid),
                                        encode_event(answer))
    finally:
        await admin.close()
    bodies = await fetch(servers.nats_url, op, wait=5)
    assert [json.loads(b)["data"]["referral_id"] for b in bodies] == ["ref-1"]
    started = time.monotonic()
    assert await fetch(servers.nats_url, op, wait=0.5) == []  # acknowledged: gone
    # Nothing there: the call ends after its wait, not after nats-py's 30 s drain timeout
    # (a bound far from both, for a loaded machine).
    assert time.monotonic() - started < 15
