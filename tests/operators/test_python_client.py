"""The slim Python operator package (clients/python, `im-operator`) against the embedded
stack, as an operator's own system uses it: with the credentials `im operators add`
printed, it publishes a referral (its data without a `type`: the envelope names it) and
reads the platform's answer from its feedback consumer."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import date

import pytest

from im_operator import fetch, prepare, send

pytestmark = pytest.mark.flow


async def test_an_operators_python_system_publishes_a_referral_and_reads_its_feedback(stack):
    op = stack.onboard("op-py")
    user = op.env["IM_NATS_USER"]
    url, login = op.env["IM_NATS_URL"], {"user": user, "password": op.env["IM_NATS_PASSWORD"],
                                         "inbox_prefix": f"_INBOX_{user}"}
    ref = f"ref-{uuid.uuid4().hex[:8]}"
    event = prepare(json.dumps({
        "specversion": "1.0", "id": uuid.uuid4().hex, "source": op.id,
        "type": "im.operator.referral_requested.v1", "time": "2026-03-24T14:32:19Z",
        "subject": op.resident, "datacontenttype": "application/json",
        "data": {"resident_id": op.resident, "site_id": op.site, "referral_id": ref,
                 "topic": "housing_search", "requested_on": date.today().isoformat()},
    }).encode(), op.id)
    assert await send(url, event, **login) > 0
    answers: list[dict] = []
    for _ in range(30):
        answers += [json.loads(b) for b in await fetch(url, op.id, wait=1, **login)]
        if any(a["data"]["referral_id"] == ref for a in answers):
            break
        await asyncio.sleep(0.5)
    mine = [a for a in answers if a["data"]["referral_id"] == ref]
    assert mine, answers
    assert mine[0]["type"] == "im.feedback.referral_received.v1"
    assert "type" not in mine[0]["data"] and mine[0]["data"]["owner"] == "housing"

