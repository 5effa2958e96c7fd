"""Idempotent batch consumption of events, the pipeline of the event side:
decode -> screen -> dispatch -> commit -> ack (or retry with backoff, or dead-letter
what is malformed, rejected or keeps failing).

`prepare` runs the first three steps, `finish` the last two, so that a wrapper can
overlap them (`pipelined.Pipelined`: a batch's handlers run while the one before
commits). A database or bus that does not answer is nobody's fault: such a batch raises
`Unavailable` (the pull loop holds it and tries again) instead of counting toward the
messages' deliveries. A message delivered ISOLATE_FROM times may be the one that kills
the process: it is handled on its own (`alone`), after its attempt is recorded."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from nats.aio.msg import Msg

from contracts import MAX_MESSAGE_BYTES, CloudEvent, EventData
from im_runtime import failpoints
from im_runtime.deadletter import DeadLetters
from im_runtime.errors import Reject
from im_runtime.metrics import Metrics
from im_runtime.outbox import OutboxRelay
from im_runtime.pipeline.dispatch import Dispatch
from im_runtime.pipeline.retry import TooManyConflicts, retry_on_conflict
from im_runtime.pipeline.screen import Screen, Todo, Verify, deliveries
from im_runtime.privacy import ErasedKeys
from im_runtime.spec import EventHandler
from im_runtime.storage import Store, UnitOfWork
from im_runtime.storage.unit_of_work import Carried
from im_runtime.transient import Unavailable, is_transient

log = logging.getLogger("im.consume")
# From this delivery on a message is handled alone: twice in a batch that never settled
# (a process that died, a poison message among others) is enough suspicion.
ISOLATE_FROM = 3
ATTEMPTS = "im_attempts"  # attempts at messages handled alone, by event id


@dataclass
class Batch:
    """A fetched batch on its way: screened, handled, then committed and acked."""

    todo: Todo
    started: float
    uow: UnitOfWork | None = None
    failed: dict[int, Exception] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)  # counted here, not by NATS

    def carried(self) -> Carried:
        return self.uow.carried() if self.uow is not None else {}


class EventConsumer:
    def __init__(self, *, service: str, store: Store, handlers: dict[str, EventHandler],
                 types: Sequence[type[EventData]], dead: DeadLetters, relay: OutboxRelay,
                 metrics: Metrics, max_deliver: int, backoff: float,
                 max_bytes: int = MAX_MESSAGE_BYTES, verify: Verify | None = None,
                 erased: ErasedKeys | None = None,
                 idempotent: frozenset[str] = frozenset()) -> None:
        self.service, self.store = service, store
        self.screen = Screen(service=service, store=store, types=types, dead=dead,
                             metrics=metrics, max_bytes=max_bytes, verify=verify,
                             erased=erased)
        self.dispatch = Dispatch(service=service, store=store, handlers=handlers,
                                 idempotent=idempotent)
        self.dead, self.relay, self.metrics = dead, relay, metrics
        self.max_deliver, self.backoff = max_deliver, backoff

    async def prepare(self, msgs: list[Msg], carried: Carried | None = None) -> Batch:
        """Screen the batch and run its handlers; nothing is committed. `carried`: what
        the batch before will have committed, for a batch prepared while that one commits."""
        batch = Batch(await self.screen(msgs), time.perf_counter())
        if batch.todo:
            batch.uow, batch.failed = await self.dispatch(batch.todo, carried)
        return batch

    async def redo(self, batch: Batch) -> None:
        """Run the handlers again from what is committed: the batch before did not
        commit what this one was prepared on."""
        if batch.todo:
            batch.uow, batch.failed = await self.dispatch(batch.todo)

    async def finish(self, batch: Batch) -> bool:
        """Commit, then ack (or retry, or dead-letter). True when the unit of work
        prepared was committed as it was, so what it carried over holds."""
        if not batch.todo:
            return True
        todo, uow, failed = batch.todo, batch.uow, batch.failed

        async def commit(attempt: int) -> bool:
            nonlocal todo, uow, failed
            if attempt:  # after a conflict: look up, run the handlers again
                todo = await self.screen.unseen(todo, True)
                if not todo:
                    return False
                uow, failed = await self.dispatch(todo)
            assert uow is not None
            return bool(await uow.commit())

        def conflicted() -> None:
            self.metrics.conflicts.labels(self.service, "event_batch").inc()

        try:
            wrote_events = await retry_on_conflict(commit, what="event batch",
                                                   on_conflict=conflicted, jitter=0.0)
        except Unavailable:
            raise
        except Exception as exc:
            if is_transient(exc):
                raise Unavailable(f"commit failed: {type(exc).__name__}: {exc}") from exc
            if not isinstance(exc, TooManyConflicts):
                log.exception("batch commit failed; redelivering")
            for msg, _ in todo:
                await msg.nak(delay=self.backoff)
            return False
        if not todo:  # all handled by another instance meanwhile
            return False
        failpoints.hit("exit_after_commit")
        if wrote_events:
            self.relay.notify()
        for msg, event in todo:
            if id(msg) in failed:
                await self._failed(msg, event, failed[id(msg)],
                                   batch.attempts.get(id(msg)) or deliveries(msg))
            else:
                self.metrics.consumed.labels(self.service, event.type).inc()
                await msg.ack()
        self.metrics.latency.labels(self.service, "event_batch").observe(
            time.perf_counter() - batch.started)
        return uow is batch.uow

    async def alone(self, msg: Msg) -> None:
        """Handle and settle one message that came back ISOLATE_FROM times or more. The
        attempt is recorded before the handlers run, so a message whose handler ends
        the process is dead-lettered after max_deliver attempts, and only it."""
        todo = await self.screen([msg])
        if not todo:
            return
        tried = await self._record_attempt(todo[0][1].id) + ISOLATE_FROM - 1
        if tried >= self.max_deliver:
            await self.dead.send(msg, f"died: the process ended or stalled {tried} times "
                                      "while handling it", "died")
            return
        batch = Batch(todo, time.perf_counter(), attempts={id(msg): tried + 1})
        batch.uow, batch.failed = await self.dispatch(todo)
        await self.finish(batch)

    async def _record_attempt(self, event_id: str) -> int:
        """Attempts recorded before this one (committed before the handler runs)."""
        async def record(_: int) -> int:
            uow = self.store.unit_of_work(self.service)
            doc = await uow.get(ATTEMPTS, event_id) or {"_id": event_id, "n": 0}
            # with its time: counts expire with command records (processed.expire)
            uow.put(ATTEMPTS, {**doc, "n": int(doc["n"]) + 1, "at": time.time_ns()})
            await uow.commit()
            return int(doc["n"])

        try:
            return await retry_on_conflict(record, what="recording an attempt", jitter=0.0)
        except TooManyConflicts as exc:
            raise Unavailable(f"could not record an attempt at {event_id}") from exc

    async def _failed(self, msg: Msg, event: CloudEvent[Any], exc: Exception,
                      attempts: int) -> None:
        self.metrics.failed.labels(self.service, event.type).inc()
        reason = f"{type(exc).__name__}: {exc}"
        if isinstance(exc, Reject):
            await self.dead.send(msg, f"rejected: {exc}", "rejected")
            return
        if attempts >= self.max_deliver:
            await self.dead.send(msg, f"failed {attempts} times: {reason}", "failed")
            return
        log.warning("handler failed, will retry", extra={"type": event.type, "id": event.id,
                                                         "attempts": attempts, "why": reason})
        await msg.nak(delay=self.backoff * 2 ** (attempts - 1))
