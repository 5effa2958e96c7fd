"""Progress bars for the commands that take long (`im demo`, `im privacy report --deep`,
services replaying history under `im up`): rich, on stderr, so stdout stays the result.
On a terminal the bar moves; elsewhere (a log, CI) rich prints its last state once."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)


class Bar:
    def __init__(self, progress: Progress, task: TaskID) -> None:
        self._progress, self._task = progress, task

    def advance(self, n: int = 1) -> None:
        self._progress.advance(self._task, n)

    def describe(self, text: str) -> None:
        self._progress.update(self._task, description=text)

    def finish(self) -> None:
        """All done: full, whatever was counted on the way (work may have grown, e.g. a
        stream that took messages while being read)."""
        task = self._progress.tasks[self._task]
        end = max(task.total or 0, task.completed)
        self._progress.update(self._task, total=end, completed=end)

    @property
    def done(self) -> int:
        return int(self._progress.tasks[self._task].completed)


@contextlib.contextmanager
def bars(console: Console | None = None) -> Iterator[Progress]:
    """Several bars at once (one per service, say); `bar()` for one."""
    progress = Progress(TextColumn("{task.description:<32}"), BarColumn(),
                        MofNCompleteColumn(), TextColumn("{task.percentage:>3.0f}%"),
                        TimeElapsedColumn(), TimeRemainingColumn(),
                        console=console or Console(stderr=True))
    with progress:
        yield progress


@contextlib.contextmanager
def bar(description: str, total: int | None, console: Console | None = None) -> Iterator[Bar]:
    with bars(console) as progress:
        yield Bar(progress, progress.add_task(description, total=total))
