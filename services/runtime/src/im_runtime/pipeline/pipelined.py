"""How the pull loop hands batches to the event pipeline: one after the other
(`Sequential`), or overlapped (`Pipelined`, the opt-in wrapper the runtime uses).

Pipelined, a batch's handlers run while the batch before commits, starting from what
that one will have written (its unit of work's `carried()` changes, adopted by the new
unit). If the batch before does not commit what it prepared (a conflict, a failure),
the handlers run again from what is committed (`redo`) before this batch commits.
Commits, and so acks, stay in order. All the state of that overlap lives here."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Protocol

from nats.aio.msg import Msg

from im_runtime.pipeline.events import Batch
from im_runtime.storage.unit_of_work import Carried


class Stages(Protocol):
    """What the pipeline of one consumer offers (im_runtime.pipeline.events)."""

    async def prepare(self, msgs: list[Msg], carried: Carried | None = None) -> Batch: ...
    async def redo(self, batch: Batch) -> None: ...
    async def finish(self, batch: Batch) -> bool: ...
    async def alone(self, msg: Msg) -> None: ...


class Sequential:
    """Each batch prepared, committed and acked before the next is taken."""

    committing: asyncio.Task[bool] | None = None

    def __init__(self, stages: Stages) -> None:
        self.stages = stages

    async def take(self, msgs: list[Msg]) -> None:
        await self.stages.finish(await self.stages.prepare(msgs))

    async def alone(self, msg: Msg) -> None:
        await self.stages.alone(msg)

    async def settle(self, strict: bool = False) -> None:
        """Nothing is left committing between two `take`s."""

    def forget(self) -> None:
        """Nothing is carried from one batch to the next."""


class Pipelined(Sequential):
    """A batch's handlers run while the one before commits."""

    def __init__(self, stages: Stages) -> None:
        super().__init__(stages)
        self.committing = None  # the commit of `_previous`, under way
        self._previous: Batch | None = None

    async def take(self, msgs: list[Msg]) -> None:
        before = self.committing
        carried = self._previous.carried() if before and self._previous else None
        batch = await self.stages.prepare(msgs, carried)
        # (shielded: stopping must not cut the commit before this one short)
        if before is not None and not await asyncio.shield(before) and carried:
            await self.stages.redo(batch)
        self._previous = batch
        self.committing = asyncio.create_task(self.stages.finish(batch))

    async def alone(self, msg: Msg) -> None:
        """After everything before it has committed."""
        await self.settle(strict=True)
        await self.stages.alone(msg)

    async def settle(self, strict: bool = False) -> None:
        """Wait for the batch committing (it acks what it committed); `strict`: its
        failure is raised, not swallowed."""
        committing, self.committing = self.committing, None
        if committing is None:
            return
        if strict:
            await committing
            return
        with contextlib.suppress(Exception):
            await committing

    def forget(self) -> None:
        """After a failure: the next batch starts from what is committed."""
        self._previous = None
