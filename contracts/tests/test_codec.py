"""The type goes out once (in the envelope) and comes in either way."""

from __future__ import annotations

import msgspec
import pytest

from contracts import EventData, wrap
from contracts.codec import EventDecoder, encode_event

pytestmark = pytest.mark.unit


class Seen(EventData, tag="im.sample.seen.v1"):
    resident_id: str
    count: int = 1
    note: str | None = None

    def resident_key(self) -> str | None:
        return self.resident_id


class Pinged(EventData, tag="im.sample.pinged.v1"):
    """An event with no fields of its own."""


DECODER = EventDecoder([Seen, Pinged])


@pytest.mark.parametrize("data", [Seen(resident_id="r1", note='{"type":"x"}'), Pinged()])
def test_the_data_goes_out_without_its_type_and_comes_back_the_same(data):
    event = wrap(data, source="tester")
    body = encode_event(event)
    raw = msgspec.json.decode(body)
    assert raw["type"] == event.type and "type" not in raw["data"]
    assert set(raw) == {"specversion", "id", "source", "type", "time", "subject",
                        "datacontenttype", "data"}
    assert DECODER.decode(body) == event
    # what was written before (the type in both) reads the same
    assert DECODER.decode(msgspec.json.encode(event)) == event


def test_a_data_type_that_is_not_the_envelopes_is_refused():
    body = msgspec.json.encode(wrap(Seen(resident_id="r1"), source="t"))
    other = body.replace(b'"type":"im.sample.seen.v1","resident_id"',
                         b'"type":"im.sample.pinged.v1","resident_id"')
    with pytest.raises(msgspec.ValidationError, match=r"pinged.v1' - at `\$\.data\.type`"):
        DECODER.decode(other)
    with pytest.raises(ValueError, match=r"envelope type 'im\.x\.y\.v1' does not match data type"):
        DECODER.decode(body.replace(b'"im.sample.seen.v1"', b'"im.x.y.v1"', 1))
    untyped = encode_event(wrap(Seen(resident_id="r1"), source="t"))
    with pytest.raises(msgspec.ValidationError, match=r"Invalid value 'im.x.y.v1' - at `\$\.type`"):
        DECODER.decode(untyped.replace(b'"im.sample.seen.v1"', b'"im.x.y.v1"'))


def test_a_bad_field_names_its_path_in_the_whole_body():
    body = encode_event(wrap(Seen(resident_id="r1"), source="t")).replace(b'"count":1',
                                                                          b'"count":"1"')
    with pytest.raises(msgspec.ValidationError, match=r"\$\.data\.count"):
        DECODER.decode(body)
