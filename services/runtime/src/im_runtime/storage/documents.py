"""Documents as handlers see them: JSON-like dicts with a string `_id`."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import uuid
from typing import Any

Doc = dict[str, Any]
_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes, dt.datetime, dt.date, dt.time,
                        decimal.Decimal, uuid.UUID})


def clone(value: Any) -> Any:
    """A deep copy of a document: dicts and lists rebuilt, immutable leaves shared. About
    three times faster than `copy.deepcopy` on JSON-like documents, which handlers copy on
    every `get` and `put`; anything else still goes through `copy.deepcopy`."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _IMMUTABLE else clone(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _IMMUTABLE else clone(v) for v in value]
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)
