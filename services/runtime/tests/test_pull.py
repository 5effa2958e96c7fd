"""The fetch loop: an empty answer from the server never makes it spin or stop."""

import asyncio

import pytest

from im_runtime.pipeline.pipelined import Pipelined
from im_runtime.transport.pull_loop import PullLoop

pytestmark = pytest.mark.unit


class FakeMsg:
    """What the loop reads of a message: its ack subject, and whether it was settled."""

    def __init__(self, name, delivered=1):
        self.name, self._ackd = name, False
        self.reply = f"$JS.ACK.S.C.{delivered}.1.1.0.0"

    def __eq__(self, other):
        return self.name == other

    async def in_progress(self):
        pass

    async def nak(self, delay=None):
        self._ackd = True


class FakeSub:
    problem = None

    def __init__(self, answers):
        self.answers, self.calls = list(answers), 0

    async def fetch(self, batch, wait):
        self.calls += 1
        if self.answers:
            return self.answers.pop(0)
        await asyncio.sleep(wait)  # the lingering request expired
        return []

    async def stop(self):
        pass

    def take_buffered(self):
        return []


class FakeBatch:
    def __init__(self, msgs):
        self.msgs = msgs

    def carried(self):
        return {}


class FakeConsumer:
    def __init__(self):
        self.batches = []

    async def prepare(self, msgs, carried=None):
        return FakeBatch(msgs)

    async def redo(self, batch):
        pass

    async def finish(self, batch):
        self.batches.append(batch.msgs)
        for msg in batch.msgs:
            msg._ackd = True
        return True


async def test_empty_answers_are_waited_out_and_batches_handled():
    consumer = FakeConsumer()
    loop = PullLoop(nc=None, js=None, stream="S", config=None, stage=Pipelined(consumer),
                    batch=10, wait=0.05)
    loop._sub = FakeSub([[], [], [FakeMsg("m1"), FakeMsg("m2")], [], [FakeMsg("m3")]])
    loop._running = True
    loop._task = asyncio.create_task(loop._loop())
    for _ in range(100):
        if len(consumer.batches) == 2:
            break
        await asyncio.sleep(0.02)
    assert consumer.batches == [["m1", "m2"], ["m3"]]
    await asyncio.sleep(0.2)
    assert loop._sub.calls < 20  # waiting, not spinning
    await loop.stop()
    assert loop._task.done()



class FlakyConsumer(FakeConsumer):
    """The database does not answer for the first `outage` attempts at a batch."""

    def __init__(self, outage):
        super().__init__()
        self.outage, self.attempts = outage, 0

    async def prepare(self, msgs, carried=None):
        self.attempts += 1
        if self.attempts <= self.outage:
            from pymongo.errors import ServerSelectionTimeoutError

            raise ServerSelectionTimeoutError("no server")
        return FakeBatch(msgs)


async def test_a_batch_that_meets_an_unavailable_database_is_held_not_naked():
    consumer = FlakyConsumer(outage=3)
    answers = {"n": 0}

    async def database():
        answers["n"] += 1
        return answers["n"] > 2  # the first pings go unanswered

    loop = PullLoop(nc=None, js=None, stream="S", config=None, stage=Pipelined(consumer),
                    batch=10, wait=0.05, database=database)
    msgs = [FakeMsg("m1"), FakeMsg("m2")]
    loop._sub = FakeSub([msgs])
    loop._running = True
    loop._task = asyncio.create_task(loop._loop())
    for _ in range(200):
        if consumer.batches:
            break
        await asyncio.sleep(0.05)
    assert consumer.batches == [["m1", "m2"]]  # handled once the database answered
    assert consumer.attempts == 4 and loop.held == 1
    await loop.stop()


async def test_messages_delivered_three_times_are_handled_alone():
    alone = []

    class Consumer(FakeConsumer):
        async def alone(self, msg):
            alone.append(msg.name)
            msg._ackd = True

    consumer = Consumer()
    loop = PullLoop(nc=None, js=None, stream="S", config=None, stage=Pipelined(consumer),
                    batch=10, wait=0.05)
    loop._sub = FakeSub([[FakeMsg("a"), FakeMsg("b", delivered=3), FakeMsg("c"),
                          FakeMsg("d", delivered=4)]])
    loop._running = True
    loop._task = asyncio.create_task(loop._loop())
    for _ in range(100):
        if len(alone) == 2:
            break
        await asyncio.sleep(0.02)
    assert consumer.batches == [["a", "c"]] and alone == ["b", "d"]
    await loop.stop()
