"""Idempotent batch consumption of events: decode strictly, skip ids already handled,
run the handlers in one unit of work, commit once, then ack; retry with backoff,
and dead-letter what is malformed, rejected or keeps failing.

A database or bus that does not answer is nobody's fault: such a batch raises
`Unavailable` (the pull loop holds it and tries again) instead of counting toward the
messages' deliveries. A message delivered ISOLATE_FROM times may be the one that kills
the process: it is handled on its own, after its attempt is recorded."""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Union

import msgspec
from nats.aio.msg import Msg

from contracts import MAX_MESSAGE_BYTES, CloudEvent, EventData, event_type
from contracts import subjects as subj
from im_runtime import failpoints, tracing
from im_runtime.deadletter import DeadLetters
from im_runtime.errors import ConcurrencyConflict, Reject
from im_runtime.metrics import Metrics
from im_runtime.outbox import OutboxRelay
from im_runtime.privacy import ErasedKeys
from im_runtime.spec import EventHandler
from im_runtime.transient import Unavailable, is_transient
from im_runtime.unit_of_work import Carried

log = logging.getLogger("im.consume")
MAX_CONFLICT_RETRIES = 8
# From this delivery on a message is handled alone: twice in a batch that never settled
# (a process that died, a poison message among others) is enough suspicion.
ISOLATE_FROM = 3
ATTEMPTS = "im_attempts"  # attempts at messages handled alone, by event id


@dataclass
class Batch:
    """A fetched batch on its way: screened, handled, then committed and acked."""

    todo: list[tuple[Msg, CloudEvent[Any]]]
    started: float
    uow: Any = None
    failed: dict[int, Exception] = field(default_factory=dict)
    attempts: dict[int, int] = field(default_factory=dict)  # counted here, not by NATS

    def carried(self) -> Carried:
        return self.uow.carried() if self.uow is not None else {}


def event_decoder(types: Sequence[type[EventData]]) -> msgspec.json.Decoder[Any]:
    union = Union[tuple(types)] if len(types) > 1 else types[0]  # noqa: UP007
    return msgspec.json.Decoder(CloudEvent[union])  # type: ignore[valid-type]


class EventConsumer:
    def __init__(self, *, service: str, store: Any, handlers: dict[str, EventHandler],
                 types: Sequence[type[EventData]], dead: DeadLetters, relay: OutboxRelay,
                 metrics: Metrics, max_deliver: int, backoff: float,
                 max_bytes: int = MAX_MESSAGE_BYTES,
                 verify: Callable[[Msg, CloudEvent[Any]], str | None] | None = None,
                 erased: ErasedKeys | None = None,
                 idempotent: frozenset[str] = frozenset()) -> None:
        self.service, self.store, self.handlers = service, store, handlers
        self.idempotent = idempotent  # event types whose handlers need no processed id
        self.max_bytes, self.verify, self.erased = max_bytes, verify, erased
        self.decoder = event_decoder(types)
        self.dead, self.relay, self.metrics = dead, relay, metrics
        self.max_deliver, self.backoff = max_deliver, backoff
        # Collections handlers read by the event's subject: prefetched per batch.
        self._by_subject: set[str] = set()

    def _decode(self, msg: Msg) -> CloudEvent[Any]:
        if len(msg.data) > self.max_bytes:
            raise ValueError(f"message of {len(msg.data)} bytes exceeds {self.max_bytes}")
        event = self.decoder.decode(msg.data)
        if event.type != event_type(type(event.data)):
            raise ValueError(f"envelope type {event.type!r} does not match data type "
                             f"{event_type(type(event.data))!r}")
        return event

    async def prepare(self, msgs: list[Msg], carried: Carried | None = None) -> Batch:
        """Screen the batch (malformed, untrusted and erased messages dealt with, seen ids
        skipped) and run its handlers; nothing is committed. `carried`: what the batch
        before will have committed, for a batch prepared while that one commits."""
        started = time.perf_counter()
        batch = Batch(await self._screen(msgs), started)
        if batch.todo:
            batch.uow, batch.failed = await self._handle(batch.todo, carried)
        return batch

    async def alone(self, msg: Msg) -> None:
        """Handle and settle one message that came back ISOLATE_FROM times or more. The
        attempt is recorded before the handlers run, so a message whose handler ends
        the process is dead-lettered after max_deliver attempts, and only it."""
        todo = await self._screen([msg])
        if not todo:
            return
        tried = await self._record_attempt(todo[0][1].id) + ISOLATE_FROM - 1
        if tried >= self.max_deliver:
            await self.dead.send(msg, f"died: the process ended or stalled {tried} times "
                                      "while handling it", "died")
            return
        batch = Batch(todo, time.perf_counter(), attempts={id(msg): tried + 1})
        batch.uow, batch.failed = await self._handle(todo, None)
        await self.finish(batch)

    async def _record_attempt(self, event_id: str) -> int:
        """Attempts recorded before this one (committed before the handler runs)."""
        for _ in range(MAX_CONFLICT_RETRIES):
            uow = self.store.unit_of_work(self.service)
            doc = await uow.get(ATTEMPTS, event_id) or {"_id": event_id, "n": 0}
            tried = int(doc["n"])
            uow.put(ATTEMPTS, {**doc, "n": tried + 1, "at": time.time_ns()})  # expires
            try:
                await uow.commit()
            except ConcurrencyConflict:
                continue
            return tried
        raise Unavailable(f"could not record an attempt at {event_id}")

    async def _screen(self, msgs: list[Msg]) -> list[tuple[Msg, CloudEvent[Any]]]:
        todo: list[tuple[Msg, CloudEvent[Any]]] = []
        for msg in msgs:
            try:
                event = self._decode(msg)
            except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
                await self.dead.send(msg, f"malformed: {exc}", "malformed")
                continue
            untrusted = self.verify(msg, event) if self.verify else None
            if untrusted:
                await self.dead.send(msg, f"untrusted: {untrusted}", "untrusted")
                continue
            todo.append((msg, event))
        todo, gone = self.erased.split(todo) if self.erased else (todo, [])
        for msg in gone:
            self.metrics.erased_dropped.labels(self.service).inc()
            await msg.ack()
        # A first delivery is almost never a duplicate: skip the look-up and let the
        # unique processed id in the commit catch the rare one (then look up and retry).
        return await self._skip_seen(todo, any(deliveries(m) > 1 for m, _ in todo))

    async def redo(self, batch: Batch) -> None:
        """Run the handlers again from what is committed: the batch before did not
        commit what this one was prepared on."""
        if batch.todo:
            batch.uow, batch.failed = await self._handle(batch.todo, None)

    async def finish(self, batch: Batch) -> bool:
        """Commit, then ack (or retry, or dead-letter). True when the unit of work
        prepared was committed as it was, so what it carried over holds."""
        todo, uow, failed = batch.todo, batch.uow, batch.failed
        if not todo:
            return True
        as_prepared = True
        for attempt in range(MAX_CONFLICT_RETRIES):
            try:
                if uow is None:  # after a conflict: look up, run the handlers again
                    todo = await self._skip_seen(todo, True)
                    if not todo:
                        return False
                    uow, failed = await self._handle(todo, None)
                wrote_events = bool(await uow.commit())
                break
            except Unavailable:
                raise
            except ConcurrencyConflict as exc:
                self.metrics.conflicts.labels(self.service, "event_batch").inc()
                log.info("batch conflicted, retrying", extra={"attempt": attempt, "why": str(exc)})
                uow, as_prepared = None, False
            except Exception as exc:
                if is_transient(exc):
                    raise Unavailable(f"commit failed: {type(exc).__name__}: {exc}") from exc
                log.exception("batch commit failed; redelivering")
                for msg, _ in todo:
                    await msg.nak(delay=self.backoff)
                return False
        else:
            for msg, _ in todo:
                await msg.nak(delay=self.backoff)
            return False
        failpoints.hit("exit_after_commit")
        if wrote_events:
            self.relay.notify()
        for msg, event in todo:
            if id(msg) in failed:  # nats Msg is an unhashable dataclass: key by identity
                await self._failed(msg, event, failed[id(msg)],
                                   batch.attempts.get(id(msg)) or deliveries(msg))
            else:
                self.metrics.consumed.labels(self.service, event.type).inc()
                await msg.ack()
        self.metrics.latency.labels(self.service, "event_batch").observe(
            time.perf_counter() - batch.started)
        return as_prepared

    async def _skip_seen(self, todo: list[tuple[Msg, CloudEvent[Any]]], look_up: bool
                         ) -> list[tuple[Msg, CloudEvent[Any]]]:
        seen = await self.store.processed_ids([e.id for _, e in todo]) if look_up else {}
        fresh: list[tuple[Msg, CloudEvent[Any]]] = []
        batch_ids: set[str] = set()
        for msg, event in todo:
            if event.id in seen or event.id in batch_ids:
                self.metrics.duplicates.labels(self.service).inc()
                await msg.ack()
            else:
                batch_ids.add(event.id)
                fresh.append((msg, event))
        return fresh

    async def _handle(self, todo: list[tuple[Msg, CloudEvent[Any]]], carried: Carried | None
                      ) -> tuple[Any, dict[int, Exception]]:
        """The batch's handlers in one unit of work (not committed): it and the failures
        by message."""
        uow = self.store.unit_of_work(self.service)
        if carried:
            uow.adopt(carried)
        await self._prefetch(uow, todo)
        loads: list[tuple[str, str]] | None = getattr(uow, "loads", None)
        failed: dict[int, Exception] = {}
        for msg, event in todo:
            point, emitted = uow.savepoint(), uow.emitted
            read = len(loads) if loads is not None else 0
            try:
                with _traced(self.service, msg, event):
                    await self.handlers[event.type](event, uow)
                if event.type not in self.idempotent or uow.emitted > emitted:
                    uow.mark_processed(event.id)
            except Exception as exc:
                if is_transient(exc):  # the whole batch waits; no message is to blame
                    raise Unavailable(f"{type(exc).__name__}: {exc}") from exc
                uow.rollback_to(point)
                failed[id(msg)] = exc
            if loads is not None and event.subject:
                self._by_subject.update(c for c, i in loads[read:] if i == event.subject)
        return uow, failed

    async def _prefetch(self, uow: Any, todo: list[tuple[Msg, CloudEvent[Any]]]) -> None:
        """Handlers that read a document whose id is the event's subject (the resident)
        would each make a round trip; once seen, read those for the whole batch in one
        query per collection. Only an optimisation: on any error the handlers read."""
        prefetch = getattr(uow, "prefetch", None)
        subjects = [e.subject for _, e in todo if e.subject]
        if prefetch is None or not self._by_subject or not subjects:
            return
        for collection in sorted(self._by_subject):
            try:
                await prefetch(collection, subjects)
            except Exception as exc:
                log.warning("prefetch failed; handlers will read",
                            extra={"collection": collection, "why": str(exc)})

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


def _traced(service: str, msg: Msg, event: CloudEvent[Any]) -> AbstractContextManager[Any]:
    """A consumer span per event, in the trace of the handler that emitted it."""
    if not tracing.recording() and not (msg.headers and "traceparent" in msg.headers):
        return contextlib.nullcontext()  # nothing to record and no trace to pass on
    return tracing.span(f"event {event.type}", tracing.SpanKind.CONSUMER,
                        parent=tracing.extract(msg.headers),
                        attributes={"im.service": service, "im.event.id": event.id,
                                    "messaging.destination.template":
                                        subj.template(msg.subject)})


def deliveries(msg: Msg) -> int:
    """From the ack subject's delivery count alone: `msg.metadata` parses all of it (and a
    timestamp), a measurable share of consuming a batch. 2 when it cannot be read."""
    if not msg.reply or not msg.reply.startswith("$JS.ACK."):
        return 2
    tokens = msg.reply.split(".")
    at = 4 if len(tokens) == 9 else Msg.Ack.NumDelivered  # v1 or v2 (domain, account) form
    if len(tokens) <= at or not tokens[at].isdigit():
        return 2
    return int(tokens[at])
