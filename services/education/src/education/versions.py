"""Which version of its events education emits, read once at start from
IM_EDUCATION_EVENT_VERSION (1, the default, or 2). During an upgrade both versions run
side by side under the one service name, sharing queue groups and durable consumers."""

from __future__ import annotations

import os
from collections.abc import Mapping

SUPPORTED = (1, 2)


def event_version(env: Mapping[str, str] | None = None) -> int:
    raw = (os.environ if env is None else env).get("IM_EDUCATION_EVENT_VERSION", "1")
    try:
        version = int(raw)
    except ValueError:
        version = 0
    if version not in SUPPORTED:
        raise ValueError(f"IM_EDUCATION_EVENT_VERSION must be one of {SUPPORTED}, not {raw!r}")
    return version


EVENT_VERSION = event_version()
