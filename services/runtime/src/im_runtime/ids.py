"""Ids derived from a command's id: the same command (retried or replayed) makes the
same id, and different commands never share one, whatever their ids look like. And how
to find an id inside another (a command id naming a resident)."""

from __future__ import annotations

import hashlib
import re


def derived(prefix: str, key: str) -> str:
    return f"{prefix}-{hashlib.sha256(key.encode()).hexdigest()[:16]}"


def naming(term: str) -> str:
    """A pattern for a text that names `term` as a whole id (`r-1` is not in `r-12`)."""
    return f"(^|[^A-Za-z0-9_-]){re.escape(term)}($|[^A-Za-z0-9_-])"
