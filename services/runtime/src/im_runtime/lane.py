"""What a command's handling tells the transport that holds its lane: it has committed,
so the next command of the lane may start while this one's answer waits for its events
to be acknowledged by their streams (issue #17; bench/commands.py measured 10 clients of
one route queueing behind each other's acks). Commands still change state one at a time
in their lane's order; only the wait for the ack is no longer in the lane."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from contextvars import ContextVar

_release: ContextVar[Callable[[], None] | None] = ContextVar("im_lane_release", default=None)


def committed() -> None:
    """Free this request's lane now (nothing when it holds none)."""
    release = _release.get()
    if release is not None:
        release()


@contextlib.contextmanager
def releasable(release: Callable[[], None]) -> Iterator[None]:
    """`committed()` within calls `release` (each request runs in a task of its own, so
    this is that request's lane only)."""
    token = _release.set(release)
    try:
        yield
    finally:
        _release.reset(token)
