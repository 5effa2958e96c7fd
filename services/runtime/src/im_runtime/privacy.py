"""Data protection every service gets from the runtime, whatever its plugin declares:
it takes part in erasures (its own `erase` hook, or the default below), drops events
about residents erased before, answers where it holds data about someone, and applies
its retention rules."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec

from contracts import CloudEvent, new_id, utcnow, wrap
from contracts import subjects as subj
from contracts.privacy import (
    APPLY_RETENTION,
    PRIVACY_REPORT,
    RESIDENT_EXPORT,
    RETENTION,
    SERVICE,
    ApplyRetention,
    ErasureConfirmed,
    ErasureRequested,
    GetPrivacyReport,
    GetResidentExport,
    ResidentExpired,
    RetentionApplied,
    RetentionRun,
    RunRetention,
)
from im_runtime import actors, erasure_keys, export, retention
from im_runtime.errors import DomainError, Forbidden
from im_runtime.spec import Answers, Erased, Handles, On, ServiceSpec
from im_runtime.storage import Store
from im_runtime.storage.mongo import ERASED
from im_runtime.storage.unit_of_work import UnitOfWork

log = logging.getLogger("im.privacy")
_ENC = msgspec.json.Encoder(decimal_format="number")
# Collections of the runtime itself: its erasure ledger holds only keys, the outbox only
# what has not gone out yet, processed ids are scrubbed separately.
RUNTIME_COLLECTIONS = frozenset({ERASED, "im_outbox", "im_processed"})
# Event types that must reach a service even about an erased resident.
PRIVACY_TYPES = frozenset({"im.privacy.erasure_requested.v1"})


def effective(spec: ServiceSpec, store: Store | None = None, instance: str = "",
              erased: ErasedKeys | None = None) -> ServiceSpec:
    """The spec as the runtime runs it: the plugin's own messages plus the privacy ones."""
    if ErasureConfirmed in spec.publishes:
        return spec
    return dataclasses.replace(
        spec,
        consumes=(*spec.consumes, On(ErasureRequested, handler=erasure_handler(
            spec, store, instance, erased))),
        publishes=(*spec.publishes, ErasureConfirmed, RetentionApplied, ResidentExpired),
        queries=(*spec.queries,
                 Answers(PRIVACY_REPORT, GetPrivacyReport, report),
                 Answers(RESIDENT_EXPORT, GetResidentExport, export.handler(spec)),
                 Answers(RETENTION, RunRetention, retention.handler(spec))),
        # Applying the rules writes: a command, sent to each service that has rules.
        commands=(*spec.commands, *((Handles(APPLY_RETENTION, ApplyRetention,
                                             retention.apply_handler(spec, store), RetentionRun),)
                                    if spec.retention else ())),
    )


# erasure
def erasure_handler(spec: ServiceSpec, store: Store | None, instance: str,
                    erased: ErasedKeys | None = None) -> Any:
    async def on_erasure(event: CloudEvent[ErasureRequested], uow: UnitOfWork) -> None:
        data = event.data
        rid = data.resident_id
        done = await (spec.erase or default_erase(spec))(rid, uow)
        key = erasure_keys.key(rid)
        if await uow.get(ERASED, key) is None:
            uow.put(ERASED, {"_id": key, "erasure_id": data.erasure_id, "at": utcnow(),
                             "person": data.person})
        if erased is not None:
            erased.add(rid, data.person)
        if store is not None:  # stored replies are outside the unit of work's documents
            scrubbed = await store.scrub_replies([rid])
            done.count("im_processed", scrubbed, anonymised=True)
        uow.emit(ErasureConfirmed(erasure_id=data.erasure_id, service=spec.name,
                                  instance=instance, removed=done.removed,
                                  anonymised=done.anonymised, confirmed_at=utcnow()))
        log.info("erased a resident", extra={"service": spec.name,
                                             "erasure_id": data.erasure_id,
                                             "removed": done.removed,
                                             "anonymised": done.anonymised})
    return on_erasure


def default_erase(spec: ServiceSpec) -> Any:
    """For a plugin without its own hook: documents keyed by the resident, or naming it
    as `resident_id`, in every collection of its database, are removed."""
    async def erase(resident_id: str, uow: UnitOfWork) -> Erased:
        done = Erased()
        for collection in await uow.collections():
            if collection in RUNTIME_COLLECTIONS:
                continue
            found = {d["_id"] for d in await uow.find(collection, {"resident_id": resident_id})}
            if await uow.get(collection, resident_id) is not None:
                found.add(resident_id)
            for id in found:
                await uow.delete(collection, id)
            done.count(collection, len(found))
        return done
    return erase


async def refuse_if_erased(uow: UnitOfWork, *resident_ids: str,
                           field: str = "resident_id") -> None:
    """For a command that would create records under given ids of people (residents, or
    a volunteer's or staff member's, named by `field`): an erased person does not come
    back under the same id. (One query for all of them.)"""
    keys = {rid: erasure_keys.key(rid) for rid in resident_ids}
    await uow.prefetch(ERASED, list(keys.values()))
    for rid, key in keys.items():
        if await uow.get(ERASED, key) is not None:
            who = "resident" if field == "resident_id" else "person"
            raise DomainError(f"this {who}'s data was erased; register them anew under a "
                              "new id", code="gone", details={field: rid})


class ErasedKeys:
    """Erasure keys of people erased here, or whose erasure was requested: events about
    them are dropped. Loaded from the service's own record at start and kept current from
    the requests on the bus, so a batch needs no database round trip for it.

    A resident is found by an event's subject. Volunteers and staff are not (their events
    are keyed by a resident, or by no one): an event whose body names one of them (any
    id-shaped string) is dropped too."""

    def __init__(self) -> None:
        self.keys: set[str] = set()
        self.people: set[str] = set()  # of those, volunteers' and staff members'
        self._sub: Any = None

    async def start(self, nc: Any, store: Store) -> None:
        # Subscribe before loading: a request in between is seen by one or the other.
        self._sub = await nc.subscribe(subj.event(SERVICE, "erasure_requested") + ".*",
                                       cb=self._on_request)
        self.keys |= erasure_keys.upgrade_all(await store.erased_keys())
        self.people |= erasure_keys.upgrade_all(await store.erased_keys(people=True))

    async def stop(self) -> None:
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _on_request(self, msg: Any) -> None:
        rid = subj.resident_of(msg.subject)
        if rid is not None and not actors.from_jetstream(msg):  # not a forged announcement
            self.add(rid, person_of(msg.data))

    def add(self, resident_id: str, person: str = "resident") -> None:
        key = erasure_keys.key(resident_id)
        self.keys.add(key)
        if person != "resident":
            self.people.add(key)

    def split(self, events: list[tuple[Any, CloudEvent[Any]]]
              ) -> tuple[list[tuple[Any, CloudEvent[Any]]], list[Any]]:
        """(what to handle, the messages about erased residents): a late event must not
        bring back what an erasure removed."""
        if not self.keys:
            return events, []
        keep, drop = [], []
        for m, e in events:
            gone = e.type not in PRIVACY_TYPES and (
                (e.subject and erasure_keys.key(e.subject) in self.keys)
                or (self.people and self.names_someone_erased(e.data)))
            (drop.append(m) if gone else keep.append((m, e)))
        return keep, drop

    def names_someone_erased(self, data: Any) -> bool:
        """Whether an event's body names an erased volunteer or staff member."""
        return any(erasure_keys.key(s) in self.people for s in ids_in(data))


_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # the shape of every id (contracts.subjects)


def ids_in(data: Any) -> set[str]:
    """Every id-shaped string anywhere in an event's body."""
    found: set[str] = set()
    todo = [msgspec.to_builtins(data)]
    while todo:
        value = todo.pop()
        if isinstance(value, str):
            if _ID.match(value):
                found.add(value)
        elif isinstance(value, dict):
            todo.extend(value.values())
        elif isinstance(value, list):
            todo.extend(value)
    return found


def person_of(request: bytes) -> str:
    """The kind of person an `erasure_requested` message is about (resident if unsure)."""
    try:
        data = msgspec.json.decode(request).get("data") or {}
        return str(data.get("person") or "resident")
    except (msgspec.DecodeError, AttributeError):
        return "resident"


# proof: where this service holds anything mentioning the terms
async def report(query: GetPrivacyReport, uow: UnitOfWork) -> Mapping[str, Any]:
    if query.actor.role not in ("city_admin", "auditor", "system"):
        raise Forbidden("only city administrators and auditors may ask where a person's "
                        "data is")
    needles = [t.encode() for t in query.terms]
    found: dict[str, int] = {}
    for collection in await uow.collections():
        n = sum(1 for doc in await uow.find(collection)
                if any(needle in _ENC.encode(_plain(doc)) for needle in needles))
        if n:
            found[collection] = n
    return {"collections": found, "documents": sum(found.values())}


def _plain(value: Any) -> Any:
    """Documents as JSON-encodable data (bytes as text) for the search."""
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    if value is None or isinstance(value, bool | datetime):
        return value
    if isinstance(value, int):  # bson's Int64 is an int that msgspec does not encode
        return int(value)
    if isinstance(value, float):
        return float(value)
    return str(value)


# one step in a unit of work of its own, committed: for tests and tools
async def erase_committed(spec: ServiceSpec, store: Store, resident_id: str) -> Erased:
    """The service's erase hook (or the default) for one resident, on its own."""
    uow = store.unit_of_work(spec.name)
    done = await (spec.erase or default_erase(spec))(resident_id, uow)
    await uow.commit()
    return done


async def confirm_erasure(spec: ServiceSpec, store: Store, resident_id: str) -> ErasureConfirmed:
    """As an erasure request arrives through the runtime: the service's confirmation."""
    uow = store.unit_of_work(spec.name)
    request = ErasureRequested(erasure_id=f"erasure-{new_id()}", resident_id=resident_id,
                               requested_at=utcnow())
    await erasure_handler(spec, store, "")(wrap(request, source="privacy"), uow)
    await uow.commit()
    (confirmed,) = [e.data for e in uow.events if isinstance(e.data, ErasureConfirmed)]
    return confirmed
