"""Contracts: subjects, envelopes, schema export, and stored examples of every version."""

from __future__ import annotations

import json
from pathlib import Path

import msgspec
import pytest

from contracts import CloudEvent, ErrorReply, EventData, Reply, subjects, wrap
from contracts.registry import all_messages

pytestmark = pytest.mark.unit
EXAMPLES = Path(__file__).parent.parent / "examples"


class Sample(EventData, frozen=True, kw_only=True, tag="im.sample.thing_happened.v1"):
    resident_id: str

    def resident_key(self) -> str | None:
        return self.resident_id


class TestSubjects:
    def test_names(self):
        assert subjects.event("housing", "moved_out", "r1") == "im.evt.housing.moved_out.r1"
        assert subjects.event("housing", "site_opened") == "im.evt.housing.site_opened"
        assert subjects.command("housing", "place") == "im.cmd.housing.place"
        assert subjects.query("resident_overview") == "im.qry.resident_overview"
        assert subjects.operator_event("op1", "session_recorded", "r1") == \
            "im.ops.op1.session_recorded.r1"
        assert subjects.dead_letter("education") == "im.dlq.education._"
        assert subjects.dead_letter("education", "r-1") == "im.dlq.education.r-1"
        assert subjects.resident_of("im.dlq.education.r-1") == "r-1"
        assert subjects.resident_of("im.dlq.education._") is None
        assert subjects.resident_of("im.evt.housing.resident_placed.r-2") == "r-2"
        assert subjects.resident_of("im.evt.housing.site_registered") is None
        assert subjects.event_stream("housing") == "IM_EVT_HOUSING"
        # what logs and spans may carry: the subject without the resident's id
        assert subjects.template("im.evt.housing.resident_placed.r-2") == \
            "im.evt.housing.resident_placed.{resident_id}"
        assert subjects.template("im.ops.op1.session_recorded.r1") == \
            "im.ops.op1.session_recorded.{resident_id}"
        assert subjects.template("im.dlq.education._") == "im.dlq.education._"
        assert subjects.template("im.evt.housing.site_registered") == \
            "im.evt.housing.site_registered"

    @pytest.mark.parametrize("bad", ["", "a.b", "a*", ">", "a b", "x" * 65])
    def test_bad_tokens_are_refused(self, bad):
        with pytest.raises(subjects.SubjectError):
            subjects.event("housing", "moved_out", bad)

    def test_parse(self):
        assert subjects.parse_event("im.evt.housing.moved_out.r1") == ("housing", "moved_out", "r1")
        with pytest.raises(subjects.SubjectError):
            subjects.parse_event("im.cmd.housing.place")


class TestEnvelope:
    def test_wrap_sets_cloudevents_fields(self):
        event = wrap(Sample(resident_id="r9"), source="tester")
        raw = msgspec.json.decode(msgspec.json.encode(event))
        assert raw["specversion"] == "1.0"
        assert raw["type"] == "im.sample.thing_happened.v1" == raw["data"]["type"]
        assert raw["subject"] == "r9"
        assert raw["datacontenttype"] == "application/json"
        assert set(raw) == {"specversion", "id", "source", "type", "time", "subject",
                            "datacontenttype", "data"}

    def test_strict_decoding(self):
        decoder = msgspec.json.Decoder(CloudEvent[Sample])
        good = msgspec.json.encode(wrap(Sample(resident_id="r1"), source="t"))
        assert decoder.decode(good).data.resident_id == "r1"
        bad = good.replace(b'"resident_id":"r1"', b'"resident_id":1')
        with pytest.raises(msgspec.ValidationError, match="Expected `str`"):
            decoder.decode(bad)
        wrong_version = good.replace(b'"specversion":"1.0"', b'"specversion":"0.3"')
        with pytest.raises(msgspec.ValidationError):
            decoder.decode(wrong_version)

    def test_reply_union_tells_errors_apart(self):
        err = msgspec.json.encode(ErrorReply(code="not_found", message="no such resident"))
        decoded = msgspec.json.decode(err, type=Reply | ErrorReply)
        assert isinstance(decoded, ErrorReply) and decoded.code == "not_found"


class TestStoredExamples:
    def files(self):
        return sorted(EXAMPLES.glob("*.json"))

    def test_every_example_decodes_strictly(self):
        messages = all_messages()
        assert self.files(), "no stored examples"
        for path in self.files():
            stored = json.loads(path.read_text())
            assert stored["message"] == path.name.split("@")[0], path.name
            assert stored["message"] in messages, f"{path.name}: message no longer exists"
            msgspec.json.decode(json.dumps(stored["body"]), type=messages[stored["message"]])

    def test_every_message_has_an_example(self):
        have = {p.name.split("@")[0] for p in self.files()}
        missing = sorted(set(all_messages()) - have)
        assert not missing, f"add an example to contracts/examples for: {missing}"

    def test_every_message_exports_a_json_schema(self):
        for name, struct in all_messages().items():
            schema = msgspec.json.schema(struct)
            assert "$ref" in schema or "type" in schema, name
