"""One decode for everything that comes in: the size checked before a byte is parsed,
then strict msgspec decoding. Events also have their envelope's type checked against
the data's, so a body cannot pass for another event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import msgspec

from contracts import MAX_MESSAGE_BYTES, CloudEvent, EventData, event_type

# What a malformed body raises: answered with `bad_request` or dead-lettered.
DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, ValueError)


def decode(decoder: msgspec.json.Decoder[Any], body: bytes,
           limit: int = MAX_MESSAGE_BYTES) -> Any:
    if len(body) > limit:
        raise ValueError(f"message of {len(body)} bytes exceeds the limit of {limit}")
    return decoder.decode(body)


class _Tagged(msgspec.Struct):
    """Only the `type` a body's data may carry (read when its data does not decode)."""

    type: str | None = None


class EventDecoder:
    """Envelope first, then the data as the type the envelope names: the event type is
    read from the envelope, so the data need not repeat it (operators may leave it out);
    where the data does carry a `type`, it must be the envelope's."""

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


def decode_event(decoder: EventDecoder, body: bytes,
                 limit: int = MAX_MESSAGE_BYTES) -> CloudEvent[Any]:
    if len(body) > limit:
        raise ValueError(f"message of {len(body)} bytes exceeds the limit of {limit}")
    return decoder.decode(body)
