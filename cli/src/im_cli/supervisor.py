"""Child processes kept running: a child that exits is started again after a delay that
doubles with each quick failure (capped) and is reset once the child has run stably.

Children are stopped in groups, the reverse of the order their groups were first
added (so `add` the gateway before the services and the services stop first); within a
group they are stopped together: SIGTERM, then SIGKILL after `stop_timeout`."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import signal
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from im_cli.embedded import die_with_parent

log = logging.getLogger("im.supervisor")


@dataclass(frozen=True)
class Backoff:
    initial: float = 0.5
    cap: float = 30.0
    factor: float = 2.0
    stable_after: float = 30.0  # a run this long resets the delay to `initial`

    def delay(self, failures: int) -> float:
        """The delay before the next start after `failures` quick exits in a row (>= 1)."""
        return min(self.cap, self.initial * self.factor ** max(0, failures - 1))


@dataclass
class Child:
    name: str
    argv: Sequence[str]
    env: Mapping[str, str] | None = None
    log_path: Path | None = None
    group: str = "default"
    pid: int | None = None
    starts: list[float] = field(default_factory=list)  # monotonic start times
    exits: list[int] = field(default_factory=list)  # return codes of unexpected exits
    delays: list[float] = field(default_factory=list)  # backoff slept before each restart
    _proc: asyncio.subprocess.Process | None = field(default=None, repr=False)
    _task: asyncio.Task[None] | None = field(default=None, repr=False)
    _stopping: bool = field(default=False, repr=False)
    _wake: asyncio.Event = field(default_factory=asyncio.Event, repr=False)

    @property
    def restarts(self) -> int:
        return max(0, len(self.starts) - 1)

    @property
    def running(self) -> bool:
        return self._proc is not None and self._proc.returncode is None


class Supervisor:
    def __init__(self, backoff: Backoff | None = None, stop_timeout: float = 10.0) -> None:
        self.backoff = backoff or Backoff()
        self.stop_timeout = stop_timeout
        self.children: list[Child] = []
        self._started = False

    def add(self, name: str, argv: Sequence[str], *, env: Mapping[str, str] | None = None,
            log_path: Path | None = None, group: str = "default") -> Child:
        if any(c.name == name for c in self.children):
            raise ValueError(f"a child named {name!r} is already supervised")
        child = Child(name=name, argv=list(argv), env=env, log_path=log_path, group=group)
        self.children.append(child)
        if self._started:
            child._task = asyncio.create_task(self._keep(child), name=f"supervise-{name}")
        return child

    def child(self, name: str) -> Child:
        return next(c for c in self.children if c.name == name)

    async def start(self) -> None:
        self._started = True
        for child in self.children:
            if child._task is None:
                child._task = asyncio.create_task(self._keep(child), name=f"supervise-{child.name}")

    @staticmethod
    def _open_log(child: Child) -> IO[bytes] | None:
        """The child's log, opened for appending, with a line saying it (re)starts."""
        if child.log_path is None:
            return None
        child.log_path.parent.mkdir(parents=True, exist_ok=True)
        logf = open(child.log_path, "ab")  # closed by _spawn once the child has it
        logf.write(f"--- {time.strftime('%Y-%m-%dT%H:%M:%S')} im up: starting "
                   f"{child.name}: {' '.join(child.argv)}\n".encode())
        logf.flush()
        return logf

    async def _spawn(self, child: Child) -> asyncio.subprocess.Process:
        logf = self._open_log(child)
        out: int | IO[bytes] = asyncio.subprocess.DEVNULL if logf is None else logf
        try:
            # A session of its own: Ctrl-C in the terminal reaches only the supervisor,
            # which then stops the children in order.
            return await asyncio.create_subprocess_exec(
                *child.argv, env=dict(child.env) if child.env is not None else None,
                stdin=asyncio.subprocess.DEVNULL, stdout=out, stderr=asyncio.subprocess.STDOUT,
                start_new_session=True, preexec_fn=die_with_parent)
        finally:
            if logf is not None:
                logf.close()

    async def _keep(self, child: Child) -> None:
        failures = 0
        while not child._stopping:
            started = time.monotonic()
            child.starts.append(started)
            try:
                proc = await self._spawn(child)
            except OSError as exc:
                log.error("cannot start %s: %s", child.name, exc)
                code = -1
            else:
                child._proc, child.pid = proc, proc.pid
                if child._stopping:  # stop() came while this child was being spawned
                    with contextlib.suppress(ProcessLookupError):
                        proc.send_signal(signal.SIGTERM)
                code = await proc.wait()
            if child._stopping:
                log.info("%s stopped (exit code %s)", child.name, code)
                break
            child.exits.append(code)
            ran = time.monotonic() - started
            failures = 1 if ran >= self.backoff.stable_after else failures + 1
            delay = self.backoff.delay(failures)
            child.delays.append(delay)
            log.warning("%s exited with %s after %.1fs; restarting in %.1fs",
                        child.name, code, ran, delay)
            child._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(child._wake.wait(), delay)

    async def _stop_child(self, child: Child) -> None:
        child._stopping = True
        child._wake.set()
        proc = child._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.send_signal(signal.SIGTERM)
        if child._task is None:
            return
        try:
            await asyncio.wait_for(asyncio.shield(child._task), self.stop_timeout)
        except TimeoutError:
            proc = child._proc
            if proc is not None and proc.returncode is None:
                log.warning("%s did not stop in %.0fs; killing it", child.name,
                            self.stop_timeout)
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
            await child._task

    def groups(self) -> list[str]:
        order: list[str] = []
        for child in self.children:
            if child.group not in order:
                order.append(child.group)
        return order

    async def stop(self) -> None:
        """Stop every child, group by group in the reverse order of the groups' first add."""
        for group in reversed(self.groups()):
            await asyncio.gather(*(self._stop_child(c) for c in self.children
                                   if c.group == group))
