"""One decode for everything that comes in: the size checked before a byte is parsed,
then strict msgspec decoding. Events are read envelope first (`contracts.codec`): the
type is the envelope's, and where the data repeats it, it must agree."""

from __future__ import annotations

from typing import Any

import msgspec

from contracts import MAX_MESSAGE_BYTES, CloudEvent
from contracts.codec import EventDecoder

__all__ = ["DECODE_ERRORS", "EventDecoder", "decode", "decode_event"]

# What a malformed body raises: answered with `bad_request` or dead-lettered.
DECODE_ERRORS = (msgspec.DecodeError, msgspec.ValidationError, ValueError)


def decode(decoder: msgspec.json.Decoder[Any], body: bytes,
           limit: int = MAX_MESSAGE_BYTES) -> Any:
    if len(body) > limit:
        raise ValueError(f"message of {len(body)} bytes exceeds the limit of {limit}")
    return decoder.decode(body)


def decode_event(decoder: EventDecoder, body: bytes,
                 limit: int = MAX_MESSAGE_BYTES) -> CloudEvent[Any]:
    if len(body) > limit:
        raise ValueError(f"message of {len(body)} bytes exceeds the limit of {limit}")
    return decoder.decode(body)
