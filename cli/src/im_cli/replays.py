"""Services replaying history as they start (`im up` on a `var/` with events): one
progress bar per service, from its durable consumers' pending counts on the bus (a
service answers nothing until it has caught up: im_runtime.replay). Nothing is shown
when there is no history to replay."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nats.js.errors import NotFoundError

from im_cli.progress import bars
from im_runtime import streams
from im_runtime.service import consumer_name


@dataclass
class Catching:
    """One service's replay: the most it had left at once, and what it has left now."""

    consumers: list[tuple[str, str]]  # (stream, durable)
    peak: int = 0
    left: int = 0
    task: Any = None
    seen: set[str] = field(default_factory=set)  # durables that exist

    @property
    def caught_up(self) -> bool:
        return len(self.seen) == len(self.consumers) and self.left == 0


def consumers(specs: Mapping[str, Any]) -> dict[str, Catching]:
    return {name: Catching([(streams.for_source(source, 1, 1.0).name or "",
                             consumer_name(name, source))
                            for source in sorted(spec.source_streams())])
            for name, spec in specs.items()}


async def _left(js: Any, state: Catching) -> None:
    total = 0
    for stream, durable in state.consumers:
        try:
            info = await js.consumer_info(stream, durable)
        except NotFoundError:  # the service has not created it yet
            continue
        state.seen.add(durable)
        total += int(info.num_pending) + int(info.num_ack_pending)
    state.left, state.peak = total, max(state.peak, total)


async def watch(js: Any, specs: Mapping[str, Any], poll: float = 0.25,
                console: Any = None) -> dict[str, int]:
    """Until every service has caught up: bars for those with history. Returns each
    service's events replayed (its peak backlog)."""
    todo = consumers(specs)
    with contextlib.ExitStack() as shown:
        progress = None  # opened at the first history found: nothing printed otherwise
        while True:
            for name, state in todo.items():
                with contextlib.suppress(TimeoutError):
                    await _left(js, state)
                if state.peak and state.task is None:
                    progress = progress or shown.enter_context(bars(console))
                    state.task = progress.add_task(f"{name}: replaying", total=state.peak)
                if progress is not None and state.task is not None:
                    progress.update(state.task, total=state.peak,
                                    completed=state.peak - state.left,
                                    description=f"{name}: " + (
                                        "caught up" if state.caught_up else "replaying"))
            if all(s.caught_up for s in todo.values()):
                return {name: s.peak for name, s in todo.items()}
            await asyncio.sleep(poll)
