"""One decode for everything that comes in: the size checked before a byte is parsed,
then strict msgspec decoding. Events also have their envelope's type checked against
the data's, so a body cannot pass for another event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Union

import msgspec

from contracts import MAX_MESSAGE_BYTES, CloudEvent, EventData, event_type

# What a malformed body raises: answered with `bad_request` or dead-lettered.
DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, ValueError)


def decode(decoder: msgspec.json.Decoder[Any], body: bytes,
           limit: int = MAX_MESSAGE_BYTES) -> Any:
    if len(body) > limit:
        raise ValueError(f"message of {len(body)} bytes exceeds the limit of {limit}")
    return decoder.decode(body)


def event_decoder(types: Sequence[type[EventData]]) -> msgspec.json.Decoder[Any]:
    union = Union[tuple(types)] if len(types) > 1 else types[0]  # noqa: UP007
    return msgspec.json.Decoder(CloudEvent[union])  # type: ignore[valid-type]


def decode_event(decoder: msgspec.json.Decoder[Any], body: bytes,
                 limit: int = MAX_MESSAGE_BYTES) -> CloudEvent[Any]:
    event: CloudEvent[Any] = decode(decoder, body, limit)
    if event.type != event_type(type(event.data)):
        raise ValueError(f"envelope type {event.type!r} does not match data type "
                         f"{event_type(type(event.data))!r}")
    return event
