"""A small service used to test the runtime's guarantees with the real servers.

It consumes `im.tester.pinged.v1` events, keeps a counter per resident and emits
`im.probe.counted.v1` for every change; it answers the `add` command and the
`resident_overview` query."""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

from pymongo import IndexModel

from contracts import CloudEvent, Command, EventData, Query, Reply
from im_runtime import Answers, Handles, On, Reject, ServiceSpec, UnitOfWork
from im_runtime.errors import DomainError


class Pinged(EventData, frozen=True, kw_only=True, tag="im.tester.pinged.v1"):
    resident_id: str
    by: int = 1
    fail_times: int = 0
    reject: bool = False
    die: bool = False  # the handler ends the process (a poison message, tests/faults)

    def resident_key(self) -> str | None:
        return self.resident_id


class Seen(EventData, frozen=True, kw_only=True, tag="im.tester.seen.v1"):
    """A fact with its own clock: the latest `at` wins (an idempotent handler)."""

    resident_id: str
    at: int
    announce: bool = False

    def resident_key(self) -> str | None:
        return self.resident_id


class Counted(EventData, frozen=True, kw_only=True, tag="im.probe.counted.v1"):
    resident_id: str
    total: int

    def resident_key(self) -> str | None:
        return self.resident_id


class Noted(EventData, frozen=True, kw_only=True, tag="im.operator.noted.v1"):
    """An operator's event (published by the operator's own system on im.ops.<op>...)."""

    resident_id: str
    text: str = ""

    def resident_key(self) -> str | None:
        return self.resident_id


class NoteSeen(EventData, frozen=True, kw_only=True, tag="im.feedback.note_seen.v1"):
    """Feedback to the operator that sent the note, on its own subjects."""

    operator_id: str
    resident_id: str

    def resident_key(self) -> str | None:
        return self.resident_id


class Add(Command, frozen=True, kw_only=True):
    resident_id: str
    by: int = 1


class Total(Reply, frozen=True, kw_only=True):
    resident_id: str
    total: int


class Overview(Query, frozen=True, kw_only=True):
    resident_id: str


attempts: Counter[str] = Counter()


async def _add(uow: UnitOfWork, resident_id: str, by: int) -> int:
    doc = await uow.get("counters", resident_id) or {"_id": resident_id, "total": 0}
    doc["total"] += by
    uow.put("counters", doc)
    uow.emit(Counted(resident_id=resident_id, total=doc["total"]))
    return int(doc["total"])


async def on_pinged(event: CloudEvent[Pinged], uow: UnitOfWork) -> None:
    attempts[event.id] += 1
    if event.data.die:
        os._exit(13)
    if event.data.reject:
        raise Reject("this ping asks to be rejected")
    if attempts[event.id] <= event.data.fail_times:
        raise RuntimeError(f"planned failure {attempts[event.id]} of {event.data.fail_times}")
    await _add(uow, event.data.resident_id, event.data.by)


async def on_seen(event: CloudEvent[Seen], uow: UnitOfWork) -> None:
    doc = await uow.get("seen", event.data.resident_id) or {
        "_id": event.data.resident_id, "last": 0}
    doc["last"] = max(doc["last"], event.data.at)
    uow.put("seen", doc)
    if event.data.announce:
        uow.emit(Counted(resident_id=event.data.resident_id, total=doc["last"]))


async def on_noted(event: CloudEvent[Noted], uow: UnitOfWork) -> None:
    uow.put("notes", {"_id": event.id, "operator": event.source,
                      "resident_id": event.data.resident_id})
    uow.emit(NoteSeen(operator_id=event.source, resident_id=event.data.resident_id))


async def add(cmd: Add, uow: UnitOfWork) -> Total:
    if cmd.by <= 0:
        raise DomainError("by must be positive", details={"by": str(cmd.by)})
    return Total(resident_id=cmd.resident_id, total=await _add(uow, cmd.resident_id, cmd.by))


async def overview(query: Overview, uow: UnitOfWork) -> dict[str, Any] | None:
    doc = await uow.get("counters", query.resident_id)
    return {"total": doc["total"]} if doc else None


spec = ServiceSpec(
    name="probe",
    version="1.0.0",
    description="test probe",
    publishes=(Counted, NoteSeen),
    consumes=(On(Pinged, handler=on_pinged), On(Seen, handler=on_seen, idempotent=True),
              On(Noted, handler=on_noted)),
    commands=(Handles("add", Add, add, Total),),
    queries=(Answers("resident_overview", Overview, overview),),
    indexes={"counters": [IndexModel("total")]},
    max_message_bytes=64 * 1024,
)
