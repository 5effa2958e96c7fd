"""Ids derived from a command's id: the same command (retried or replayed) makes the
same id, and different commands never share one, whatever their ids look like."""

from __future__ import annotations

import hashlib


def derived(prefix: str, key: str) -> str:
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"
