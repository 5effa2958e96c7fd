"""Test-only failpoints: IM_FAILPOINT names a point where the process dies at once,
so fault tests can kill a service exactly between its commit and its publish."""

from __future__ import annotations

import os


def hit(name: str) -> None:
    if os.environ.get("IM_FAILPOINT") == name:
        os._exit(70)
