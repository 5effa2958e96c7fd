"""One retry for optimistic concurrency, for commands and events alike: a commit that
finds a document changed since it was read (`ConcurrencyConflict`) is run again from the
start, up to MAX_CONFLICT_RETRIES times, with a short jittered back-off."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable
from typing import TypeVar

from im_runtime.errors import ConcurrencyConflict

log = logging.getLogger("im.retry")
MAX_CONFLICT_RETRIES = 8
T = TypeVar("T")


class TooManyConflicts(ConcurrencyConflict):
    """Every attempt conflicted."""


async def retry_on_conflict(attempt: Callable[[int], Awaitable[T]], *, what: str,
                            on_conflict: Callable[[], None] | None = None,
                            jitter: float = 0.005) -> T:
    """`attempt(n)` (n from 0) until it does not conflict; TooManyConflicts after
    MAX_CONFLICT_RETRIES. Attempts after the first wait up to `jitter * 2**n` seconds
    first, so that instances racing for one document fall out of step."""
    for n in range(MAX_CONFLICT_RETRIES):
        if n and jitter:
            await asyncio.sleep(random.uniform(0, jitter * 2 ** n))
        try:
            return await attempt(n)
        except ConcurrencyConflict as exc:
            if on_conflict is not None:
                on_conflict()
            log.info("conflicted, retrying", extra={"what": what, "attempt": n,
                                                    "why": str(exc)})
    raise TooManyConflicts(f"{what} conflicted {MAX_CONFLICT_RETRIES} times")
