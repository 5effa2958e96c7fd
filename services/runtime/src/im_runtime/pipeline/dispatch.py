"""The pipeline's dispatch: a batch's events through their handlers in one unit of work
(not committed), each behind a savepoint, so one failing event leaves the others'
changes in place."""

from __future__ import annotations

import contextlib
import logging
from contextlib import AbstractContextManager
from typing import Any

from nats.aio.msg import Msg

from contracts import CloudEvent
from contracts import subjects as subj
from im_runtime import tracing
from im_runtime.pipeline.screen import Todo
from im_runtime.spec import EventHandler
from im_runtime.storage import Store, UnitOfWork
from im_runtime.storage.unit_of_work import Carried
from im_runtime.transient import Unavailable, is_transient

log = logging.getLogger("im.consume")


class Dispatch:
    def __init__(self, *, service: str, store: Store, handlers: dict[str, EventHandler],
                 idempotent: frozenset[str] = frozenset()) -> None:
        self.service, self.store, self.handlers = service, store, handlers
        self.idempotent = idempotent  # event types whose handlers need no processed id
        # Collections handlers read by the event's subject: prefetched per batch.
        self._by_subject: set[str] = set()

    async def __call__(self, todo: Todo, carried: Carried | None = None
                       ) -> tuple[UnitOfWork, dict[int, Exception]]:
        """The unit of work (starting from `carried`, what a batch committing meanwhile
        will have written) and the failures by message (keyed by identity: a nats Msg is
        an unhashable dataclass). A dependency that does not answer: Unavailable."""
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

    async def _prefetch(self, uow: UnitOfWork, todo: Todo) -> None:
        """Handlers that read a document whose id is the event's subject (the resident)
        would each make a round trip; once seen, read those for the whole batch in one
        query per collection. Only an optimisation: on any error the handlers read."""
        subjects = [e.subject for _, e in todo if e.subject]
        if not self._by_subject or not subjects:
            return
        for collection in sorted(self._by_subject):
            try:
                await uow.prefetch(collection, subjects)
            except Exception as exc:
                log.warning("prefetch failed; handlers will read",
                            extra={"collection": collection, "why": str(exc)})


def _traced(service: str, msg: Msg, event: CloudEvent[Any]) -> AbstractContextManager[Any]:
    """A consumer span per event, in the trace of the handler that emitted it."""
    if not tracing.recording() and not (msg.headers and "traceparent" in msg.headers):
        return contextlib.nullcontext()  # nothing to record and no trace to pass on
    return tracing.span(f"event {event.type}", tracing.SpanKind.CONSUMER,
                        parent=tracing.extract(msg.headers),
                        attributes={"im.service": service, "im.event.id": event.id,
                                    "messaging.destination.template":
                                        subj.template(msg.subject)})
