"""The pipelined event side (im_runtime.pipeline.pipelined), driven directly: a batch's
handlers run while the batch before commits, on what that one will have written; when
that commit fails instead, they run again from what is committed before this batch
commits. Nothing is lost, nothing counted twice, acks stay in order."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from contracts import CloudEvent, EventData, wrap
from im_runtime import UnitOfWork
from im_runtime.memory import MemoryStore
from im_runtime.metrics import Metrics
from im_runtime.pipeline.events import Batch, EventConsumer
from im_runtime.pipeline.pipelined import Pipelined, Sequential
from im_runtime.storage.unit_of_work import Carried

pytestmark = pytest.mark.unit


class Added(EventData, frozen=True, kw_only=True, tag="im.tester.added.v1"):
    by: int


class FakeMsg:
    """What the pipeline reads of a JetStream message, and how it was settled."""

    def __init__(self, event: CloudEvent[Any], seq: int) -> None:
        self.data = msgspec.json.encode(event)
        self.subject, self.headers = "im.evt.tester.added", None
        self.reply = f"$JS.ACK.S.C.1.{seq}.{seq}.0.0"  # a first delivery
        self.settled: list[str] = []

    async def ack(self) -> None:
        self.settled.append("ack")

    async def nak(self, delay: float | None = None) -> None:
        self.settled.append("nak")


class NoRelay:
    def notify(self) -> None:
        pass


class Sabotaged:
    """The consumer's stages, with the first batch's commit failing (a disk that filled
    up, say): not a conflict, so the batch after it cannot rely on what it carried."""

    def __init__(self, consumer: EventConsumer) -> None:
        self.consumer, self.redone, self.first = consumer, 0, True

    async def prepare(self, msgs: list[Any], carried: Carried | None = None) -> Batch:
        batch = await self.consumer.prepare(msgs, carried)
        if self.first and batch.uow is not None:
            self.first = False

            async def boom(*_: Any) -> None:
                raise RuntimeError("disk full")
            batch.uow._commit = boom  # type: ignore[method-assign]
        return batch

    async def redo(self, batch: Batch) -> None:
        self.redone += 1
        await self.consumer.redo(batch)

    async def finish(self, batch: Batch) -> bool:
        return await self.consumer.finish(batch)

    async def alone(self, msg: Any) -> None:
        await self.consumer.alone(msg)


async def add(event: CloudEvent[Added], uow: UnitOfWork) -> None:
    doc = await uow.get("totals", "t") or {"_id": "t", "n": 0, "seen": []}
    uow.put("totals", {**doc, "n": doc["n"] + event.data.by,
                       "seen": [*doc["seen"], event.id]})


def consumer(store: MemoryStore, metrics: Metrics) -> EventConsumer:
    return EventConsumer(service="probe", store=store, handlers={"im.tester.added.v1": add},
                         types=[Added], dead=None, relay=NoRelay(),  # type: ignore[arg-type]
                         metrics=metrics, max_deliver=5, backoff=0.0)


def msgs(start: int, *bys: int) -> list[FakeMsg]:
    return [FakeMsg(wrap(Added(by=by), source="tester"), start + i) for i, by in enumerate(bys)]


async def test_a_batch_prepared_on_a_commit_that_failed_is_redone_from_what_is_committed():
    store, metrics = MemoryStore("probe"), Metrics("probe")
    stages = Sabotaged(consumer(store, metrics))
    pipe = Pipelined(stages)
    first, second = msgs(1, 1, 2), msgs(3, 10)
    await pipe.take(first)  # its commit is under way (and will fail)
    assert pipe.committing is not None
    await pipe.take(second)  # prepared on the first's writes; the first fails; redone
    await pipe.settle(strict=True)

    assert stages.redone == 1
    assert [m.settled for m in first] == [["nak"], ["nak"]]  # come back, nothing lost
    assert [m.settled for m in second] == [["ack"]]
    # only the second batch's effect is committed: not 13 (what it was prepared on)
    assert store.collections["totals"]["t"]["n"] == 10
    # the redo, not a conflict at the commit, set it right
    assert metrics.conflicts.labels("probe", "event_batch")._value.get() == 0

    await pipe.take(first)  # redelivered: now they commit on top
    await pipe.settle(strict=True)
    assert store.collections["totals"]["t"]["n"] == 13
    assert [m.settled[-1] for m in first] == ["ack", "ack"]


async def test_a_batch_prepared_on_a_commit_that_held_is_not_redone():
    store, metrics = MemoryStore("probe"), Metrics("probe")
    stages = Sabotaged(consumer(store, metrics))
    stages.first = False  # every commit goes through
    pipe = Pipelined(stages)
    await pipe.take(msgs(1, 1, 2))
    await pipe.take(msgs(3, 10))
    await pipe.settle(strict=True)
    assert stages.redone == 0
    assert store.collections["totals"]["t"]["n"] == 13


async def test_sequential_leaves_nothing_committing():
    store = MemoryStore("probe")
    seq = Sequential(consumer(store, Metrics("probe")))
    batch = msgs(1, 4)
    await seq.take(batch)
    assert seq.committing is None and batch[0].settled == ["ack"]
    assert store.collections["totals"]["t"]["n"] == 4
