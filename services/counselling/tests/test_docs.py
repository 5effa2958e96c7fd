"""The operator guide and AsyncAPI document stay true to the contracts: the stored JSON
Schemas are today's, every worked example passes `im publish`'s check, and the AsyncAPI
document (generated, see cli/tests/test_asyncapi.py) names every operator event and
feedback event."""

from __future__ import annotations

import json
import re
from pathlib import Path

import msgspec
import pytest
import yaml

from contracts import CloudEvent, event_parts, event_type
from contracts.operator import EVENTS, IncidentRecorded
from contracts.payloads import optional_data_type
from contracts.referrals import with_topics
from counselling.plugin import spec
from im_cli.commands import message_schema
from im_cli.publish import prepare
from im_runtime.plugins import installed

pytestmark = pytest.mark.unit
DOCS = Path(__file__).parents[3] / "docs"
FEEDBACK = [t for t in spec.publishes if event_parts(t)[0] == "feedback"]
TOPICS = {t for s in installed().values() for t in s.referral_topics}


@pytest.mark.parametrize("t", [*EVENTS, *FEEDBACK], ids=event_type)
def test_stored_json_schemas_are_generated_from_the_contracts(t):
    stored = json.loads((DOCS / "operator-schemas" / f"{event_type(t)}.json").read_text())
    assert stored == message_schema(event_type(t), CloudEvent[t])  # type: ignore[valid-type]
    generated = optional_data_type(msgspec.json.schema(CloudEvent[t]))  # type: ignore[valid-type]
    assert stored == with_topics(generated, TOPICS) or "topic" not in json.dumps(stored)
    # the data's type is optional: the envelope's names the event (contracts.codec)
    data = stored["$defs"][t.__name__]
    assert "type" in data["properties"] and "type" not in data.get("required", [])


def test_the_operators_schemas_list_the_installed_topics():
    stored = json.loads((DOCS / "operator-schemas" /
                         "im.operator.referral_requested.v1.json").read_text())
    topic = stored["$defs"]["OperatorReferralRequested"]["properties"]["topic"]
    assert topic["enum"] == sorted(TOPICS)


def test_every_worked_example_passes_the_publishers_check():
    guide = (DOCS / "operators.md").read_text()
    examples = re.findall(r"```json\n(.*?)```", guide, re.S)
    types = set()
    for example in examples:
        event = json.loads(example)
        types.add(event["type"])
        if event["type"].startswith("im.operator."):
            prepared = prepare(example.encode(), "op-drk-hannover")
            assert prepared.subject.startswith("im.ops.op-drk-hannover.")
    assert {event_type(t) for t in EVENTS} <= types


def test_the_asyncapi_document_describes_the_operator_subjects():
    doc = yaml.safe_load((DOCS / "asyncapi.yaml").read_text())  # generated, parsed in cli/tests
    addresses = {c["address"] for c in doc["channels"].values()}
    for t in EVENTS:
        about = "" if t is IncidentRecorded else ".{resident_id}"
        assert f"im.ops.{{operator_id}}.{event_parts(t)[1]}{about}" in addresses
    for t in FEEDBACK:
        assert f"im.fb.{{operator_id}}.{event_parts(t)[1]}.{{resident_id}}" in addresses
    names = {m["name"] for m in doc["components"]["messages"].values()}
    assert {event_type(t) for t in (*EVENTS, *FEEDBACK)} <= names
