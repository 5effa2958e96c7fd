"""Request bodies decoded with the field named on a refusal, so a form can show the
reason next to the field it concerns (`details.field`)."""

from __future__ import annotations

import re
from typing import Any, TypeVar

import msgspec

from gateway.errors import ApiError

T = TypeVar("T")
_AT = re.compile(r"at `\$\.([^`]+)`")
_MISSING = re.compile(r"required field `([^`]+)`")


def field_of(message: str) -> str | None:
    """`username` of msgspec's "... - at `$.username`" or "missing required field `username`"."""
    found = _AT.search(message) or _MISSING.search(message)
    return found.group(1) if found else None


def convert(data: Any, type_: type[T], what: str) -> T:
    try:
        return msgspec.convert(data, type_)
    except msgspec.ValidationError as exc:
        field = field_of(str(exc))
        raise ApiError("bad_request", f"invalid {what}: {exc}",
                       **({"field": field} if field else {})) from None
