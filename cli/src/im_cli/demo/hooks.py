"""Plugins' parts of the demo city, found through the entry-point group `im.demo`: an
entry point named after a service gives an object with `size(city)` (the commands it will
send, for the progress bar) and `async seed(seeder)` (`Seeder` of `seed.py`: `command`,
`each`, `settled`, `settle`, the `city`). It runs once the built-in city is seeded and
settled, when that service runs. The demo names no plugin."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from importlib.metadata import entry_points
from typing import Any, Protocol

GROUP = "im.demo"


class DemoHook(Protocol):
    def size(self, city: Any) -> int: ...

    async def seed(self, seeder: Any) -> None: ...


def installed(running: Iterable[str]) -> list[tuple[str, DemoHook]]:
    """(service, hook) of every installed hook whose service runs, by service name; a
    hook that fails to load is reported and left out."""
    wanted = set(running)
    out: list[tuple[str, DemoHook]] = []
    for ep in entry_points(group=GROUP):
        if ep.name not in wanted:
            continue
        try:
            hook = ep.load()
        except Exception as exc:
            print(f"note: the demo hook of {ep.name} failed to load ({exc}); skipped",
                  file=sys.stderr)
            continue
        out.append((ep.name, hook))
    return sorted(out, key=lambda pair: pair[0])
