"""Four eyes: an erasure requested by one city administrator goes out only once another
approves it (approval.py). On unless `IM_ERASURE_FOUR_EYES=0` where the privacy service
runs (a city that decides one administrator is enough)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

ENV = "IM_ERASURE_FOUR_EYES"
AWAITING, APPROVED, REJECTED = "awaiting_approval", "approved", "rejected"
_ON, _OFF = ("1", "true", "yes", "on"), ("0", "false", "no", "off")


def enabled(env: Mapping[str, str] | None = None) -> bool:
    raw = (os.environ if env is None else env).get(ENV, "").strip().lower()
    if raw in ("", *_ON):
        return True
    if raw in _OFF:
        return False
    raise ValueError(f"{ENV}={raw!r}: say 1 (a second city administrator approves each "
                     "erasure, the default) or 0")


def approved(doc: Mapping[str, Any]) -> bool:
    """Entries from before four eyes carry no state: they went out when requested."""
    return doc.get("state", APPROVED) == APPROVED
