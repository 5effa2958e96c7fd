"""An event on the wire: its type said once, in the CloudEvent envelope.

The platform writes the data without a `type` field; readers take the type from the
envelope and decode the data as that type. A body whose data does carry a `type` (what
the platform wrote before, what operators may still send) decodes the same, as long as
it is the envelope's. msgspec only, no I/O: operators' clients use this as it is."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from contracts._base import CloudEvent, EventData, event_type

_ENC = msgspec.json.Encoder()


def encode_event(event: CloudEvent[Any]) -> bytes:
    """The CloudEvent's JSON with the data's `type` left out (the envelope has it)."""
    data = _ENC.encode(event.data)
    # msgspec writes a tagged Struct's tag as its first field: cut exactly that.
    head = b'{"type":' + _ENC.encode(event_type(type(event.data)))
    if not data.startswith(head):
        raise TypeError(f"{type(event.data).__name__} did not encode its tag first")
    rest = data[len(head):]
    untyped = b"{" + rest[1:] if rest.startswith(b",") else b"{}"
    return _ENC.encode(msgspec.structs.replace(event, data=msgspec.Raw(untyped)))


class _Tagged(msgspec.Struct):
    """Only the `type` a body's data may carry (read when its data does not decode)."""

    type: str | None = None


class EventDecoder:
    """Envelope first, then the data as the type the envelope names: the data need not
    repeat the type; where it does, it must be the envelope's. Build once per set of
    types (the decoders are made here, not per message)."""

    def __init__(self, types: Sequence[type[EventData]]) -> None:
        # (the data left raw, to be decoded as the type the envelope names)
        self._envelope = msgspec.json.Decoder(CloudEvent[msgspec.Raw])  # type: ignore[type-var]
        self._data = {event_type(t): msgspec.json.Decoder(t) for t in types}

    def decode(self, body: bytes) -> CloudEvent[Any]:
        envelope = self._envelope.decode(body)
        decoder = self._data.get(envelope.type)
        if decoder is None:
            said = msgspec.json.decode(envelope.data, type=_Tagged).type
            if said in self._data:
                raise ValueError(f"envelope type {envelope.type!r} does not match data type "
                                 f"{said!r}")
            raise msgspec.ValidationError(
                f"Invalid value {said or envelope.type!r} - at "
                f"`$.{'data.type' if said else 'type'}`")
        try:
            data = decoder.decode(envelope.data)
        except msgspec.ValidationError as exc:  # its path as in the whole body
            raise msgspec.ValidationError(str(exc).replace("`$", "`$.data", 1)) from None
        return msgspec.structs.replace(envelope, data=data)
