"""The unit of work handlers write through: an identity map of documents, the events
they emit, and one atomic commit of both (the outbox). Adapters supply load and commit."""

from __future__ import annotations

import copy
import datetime as dt
import decimal
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec

from contracts import CloudEvent, EventData, event_parts, wrap
from contracts import subjects as subj
from im_runtime import tracing
from im_runtime.errors import NotFound

Doc = dict[str, Any]
Key = tuple[str, str]
# What a unit of work will have committed: each changed document (None: deleted) and
# its version then; a unit prepared meanwhile starts from it (`adopt`).
Carried = dict[Key, tuple["Doc | None", "int | None"]]
_ENCODER = msgspec.json.Encoder()
_IMMUTABLE = frozenset({str, int, float, bool, type(None), bytes, dt.datetime, dt.date, dt.time,
                        decimal.Decimal, uuid.UUID})


def clone(value: Any) -> Any:
    """A deep copy of a document: dicts and lists rebuilt, immutable leaves shared. About
    three times faster than `copy.deepcopy` on JSON-like documents, which handlers copy on
    every `get` and `put`; anything else still goes through `copy.deepcopy`."""
    kind = type(value)
    if kind is dict:
        return {k: v if type(v) in _IMMUTABLE else clone(v) for k, v in value.items()}
    if kind is list:
        return [v if type(v) in _IMMUTABLE else clone(v) for v in value]
    if kind in _IMMUTABLE:
        return value
    return copy.deepcopy(value)


class OutboxEntry(msgspec.Struct, frozen=True):
    id: str
    subject: str
    body: bytes
    headers: dict[str, str] = {}  # the emitting handler's trace context (traceparent)


def outbox_entry(event: CloudEvent[Any], headers: dict[str, str] | None = None) -> OutboxEntry:
    service, name, _ = event_parts(type(event.data))
    if service == subj.FEEDBACK:  # to one operator's own subjects
        subject = subj.feedback(event.data.operator_id, name, event.subject)
    else:
        subject = subj.event(service, name, event.subject)
    return OutboxEntry(event.id, subject, _ENCODER.encode(event), headers or {})


_ABSENT: Any = object()  # "no entry" in an undo record

_COMPARE = {"$lt": lambda a, b: a < b, "$lte": lambda a, b: a <= b,
            "$gt": lambda a, b: a > b, "$gte": lambda a, b: a >= b}


def _match_one(have: Any, want: Any) -> bool:
    if isinstance(want, Mapping):
        for op, arg in want.items():
            if op == "$in":
                ok = have in arg or (isinstance(have, list) and any(h in arg for h in have))
            elif op == "$ne":
                ok = have != arg
            elif op in _COMPARE:
                ok = have is not None and type(have) is type(arg) and _COMPARE[op](have, arg)
            else:
                raise ValueError(f"operator {op!r} is not supported in an overlay filter")
            if not ok:
                return False
        return True
    # As in MongoDB, a scalar matches an array that contains it.
    return have == want or (isinstance(have, list) and not isinstance(want, list)
                            and want in have)


def matches(doc: Mapping[str, Any], flt: Mapping[str, Any]) -> bool:
    """Top-level equality, $in, $ne and comparisons: enough to overlay unsaved documents
    on a find, and for the in-memory store."""
    return all(_match_one(doc.get(field), want) for field, want in flt.items())


class UnitOfWork:
    """Base: subclasses implement `_load`, `_query`, `_count` and `_commit`."""

    def __init__(self, source: str) -> None:
        self.source = source
        self._docs: dict[Key, Doc | None] = {}
        self._versions: dict[Key, int | None] = {}
        self._dirty: set[Key] = set()
        self._events: list[CloudEvent[Any]] = []
        self._traces: dict[str, dict[str, str]] = {}  # event id -> trace context at emit
        self._done: list[tuple[str, bytes | None]] = []
        # Undo records of writes, (key, document before, version before, dirty before),
        # so a savepoint costs nothing and a rollback undoes only what changed since.
        self._journal: list[tuple[Key, Any, Any, bool]] = []
        self._carried: set[Key] = set()  # adopted from a unit committing meanwhile

    # reads
    async def get(self, collection: str, id: str) -> Doc | None:
        key = (collection, id)
        if key not in self._docs:
            doc = await self._load(collection, id)
            self._docs[key] = doc
            self._versions[key] = doc.get("_v", 0) if doc is not None else None
        doc = self._docs[key]
        return clone(doc) if doc is not None else None

    async def prefetch(self, collection: str, ids: Sequence[str]) -> None:
        """Read these documents into the identity map ahead of the `get`s that will ask for
        them; stores that can do it in one query override this."""
        for id in ids:
            await self.get(collection, id)

    async def need(self, collection: str, id: str, what: str,
                   field: str | None = None) -> Doc:
        """`get`, or NotFound naming the thing and its id (`<what>_id` unless `field`)."""
        doc = await self.get(collection, id)
        if doc is None:
            raise NotFound(f"no {what} {id!r}",
                           details={field or f"{what.replace(' ', '_')}_id": id})
        return doc

    async def find(self, collection: str, flt: Mapping[str, Any] | None = None, *,
                   sort: list[tuple[str, int]] | None = None, skip: int = 0,
                   limit: int = 0) -> list[Doc]:
        """Committed documents matching `flt`, with this unit's own changes laid over."""
        flt = flt or {}
        found = await self._query(collection, flt, sort, skip, limit)
        out: list[Doc] = []
        seen: set[str] = set()
        for doc in found:
            key = (collection, doc["_id"])
            seen.add(doc["_id"])
            if key not in self._docs:  # known from now on, so a later put is an update
                self._docs[key] = doc
                self._versions[key] = doc.get("_v", 0)
            if key in self._dirty or key in self._carried:
                mine = self._docs[key]
                if mine is not None and matches(mine, flt):
                    out.append(clone(mine))
                continue
            out.append(clone(doc))
        for (coll, id), new in self._docs.items():
            if coll == collection and id not in seen and new is not None \
                    and ((coll, id) in self._dirty or (coll, id) in self._carried) \
                    and matches(new, flt):
                out.append(clone(new))
        return out

    async def count(self, collection: str, flt: Mapping[str, Any] | None = None) -> int:
        if any(c == collection for c, _ in self._dirty | self._carried):
            return len(await self.find(collection, flt))
        return await self._count(collection, flt or {})

    async def tally(self, collection: str, by: str | tuple[str, ...],
                    where: Mapping[str, Any] | None = None) -> dict[Any, int]:
        """How many documents (matching `where`) have each value of field `by` (a tuple of
        fields: each combination of their values). A reader answers from a tally kept
        current with every change; here it counts what `find` returns (the write side and
        the in-memory store of unit tests)."""
        group = (by,) if isinstance(by, str) else by
        out: dict[Any, int] = {}
        for doc in await self.find(collection, where):
            values = tuple(doc.get(f) for f in group)
            if not any(isinstance(v, dict | list) for v in values):
                key = values[0] if isinstance(by, str) else values
                out[key] = out.get(key, 0) + 1
        return out

    async def collections(self) -> list[str]:
        """Every collection of the service's database (for erasure and its proof)."""
        raise NotImplementedError

    # writes
    def put(self, collection: str, doc: Doc) -> None:
        if not isinstance(doc.get("_id"), str):
            raise ValueError("a document needs a string _id")
        key = (collection, doc["_id"])
        self._remember(key)
        self._versions.setdefault(key, None)
        self._docs[key] = clone(doc)
        self._dirty.add(key)

    async def delete(self, collection: str, id: str) -> None:
        await self.get(collection, id)
        key = (collection, id)
        self._remember(key)
        self._docs[key] = None
        self._dirty.add(key)

    def _remember(self, key: Key) -> None:
        self._journal.append((key, self._docs.get(key, _ABSENT),
                              self._versions.get(key, _ABSENT), key in self._dirty))

    def emit(self, data: EventData) -> CloudEvent[Any]:
        event = wrap(data, source=self.source)
        self._events.append(event)
        if trace := tracing.inject():  # so the trace goes on in the event's consumers
            self._traces[event.id] = trace
        return event

    @property
    def events(self) -> list[CloudEvent[Any]]:
        return list(self._events)

    @property
    def emitted(self) -> int:
        """How many events this unit will publish (without copying them)."""
        return len(self._events)

    def mark_processed(self, key: str, reply: bytes | None = None) -> None:
        """Record a handled message id (and the reply to give again) with the commit."""
        self._done.append((key, reply))

    # savepoints, so one failing message in a batch leaves the others' changes intact
    def savepoint(self) -> tuple[int, int, int]:
        return len(self._journal), len(self._events), len(self._done)

    def rollback_to(self, point: tuple[int, int, int]) -> None:
        """Undo the writes since `point` (documents only read since stay known: they are
        what the database holds)."""
        n_journal, n_events, n_done = point
        while len(self._journal) > n_journal:
            key, doc, version, dirty = self._journal.pop()
            for table, old in ((self._docs, doc), (self._versions, version)):
                if old is _ABSENT:
                    table.pop(key, None)
                else:
                    table[key] = old
            if dirty:
                self._dirty.add(key)
            else:
                self._dirty.discard(key)
        del self._events[n_events:]
        del self._done[n_done:]

    def carried(self) -> Carried:
        """What committing this unit will have written: its changed documents, each with
        the version the commit gives it (an insert 1, an update one more, a delete None)."""
        out: Carried = {}
        for key in self._dirty:
            doc = self._docs[key]
            out[key] = (doc, None) if doc is None else (doc, (self._versions.get(key) or 0) + 1)
        return out

    def adopt(self, carried: Carried) -> None:
        """Start from what a unit committing meanwhile will have written (before any read):
        reads, finds and the commit's version checks see it as committed."""
        for key, (doc, version) in carried.items():
            self._docs[key] = doc
            self._versions[key] = version
            self._carried.add(key)

    def changes(self) -> list[tuple[str, str, Doc | None, int | None]]:
        """(collection, id, new document or None, version read or None) per dirty doc."""
        return [(c, i, self._docs[(c, i)], self._versions.get((c, i))) for c, i in self._dirty]

    async def commit(self) -> list[OutboxEntry]:
        entries = [outbox_entry(e, self._traces.get(e.id)) for e in self._events]
        if self._dirty or entries or self._done:
            await self._commit(self.changes(), entries, list(self._done))
        return entries

    async def _load(self, collection: str, id: str) -> Doc | None:
        raise NotImplementedError

    async def _query(self, collection: str, flt: Mapping[str, Any],
                     sort: list[tuple[str, int]] | None, skip: int, limit: int) -> list[Doc]:
        raise NotImplementedError

    async def _count(self, collection: str, flt: Mapping[str, Any]) -> int:
        raise NotImplementedError

    async def _commit(self, changes: list[tuple[str, str, Doc | None, int | None]],
                      outbox: list[OutboxEntry], processed: list[tuple[str, bytes | None]]) -> None:
        raise NotImplementedError
