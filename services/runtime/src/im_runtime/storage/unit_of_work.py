"""The unit of work handlers write through: an identity map of documents with savepoints,
the events they emit, and one atomic commit of both (the outbox). Adapters supply
`_load`, `_query`, `_count` and `_commit`; unsaved writes are laid over a `find`
(`overlay`), and every filter is checked on every call (`filters`)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from contracts import CloudEvent, EventData, wrap
from im_runtime import tracing
from im_runtime.errors import NotFound
from im_runtime.storage.documents import Doc, clone
from im_runtime.storage.filters import check
from im_runtime.storage.outbox_entry import OutboxEntry, outbox_entry
from im_runtime.storage.overlay import lay_over
from im_runtime.storage.store import Change

__all__ = ["Carried", "Doc", "OutboxEntry", "UnitOfWork", "clone"]

Key = tuple[str, str]
# What a unit of work will have committed: each changed document (None: deleted) and
# its version then; a unit prepared meanwhile starts from it (`adopt`, the pipeline's
# carry-over, im_runtime.pipeline.pipelined).
Carried = dict[Key, tuple["Doc | None", "int | None"]]


_ABSENT: Any = object()  # "no entry" in an undo record


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
        """Committed documents matching `flt`, with this unit's own changes laid over,
        sorted, skipped and limited as the whole would be."""
        flt = flt or {}
        check(flt)
        mine = self._laid_over(collection)
        if not mine:  # nothing of this unit's in the collection: the store does it all
            return [clone(self._known(collection, d)) for d in
                    await self._query(collection, flt, sort, skip, limit)]
        committed = [self._known(collection, d)
                     for d in await self._query(collection, flt, None, 0, 0)]
        return [clone(d) for d in lay_over(committed, mine, flt, sort, skip, limit)]

    def _laid_over(self, collection: str) -> dict[str, Doc | None]:
        """This unit's changed or adopted documents of `collection` (None: deleted)."""
        return {id: self._docs[(coll, id)] for coll, id in (*self._dirty, *self._carried)
                if coll == collection}

    def _known(self, collection: str, doc: Doc) -> Doc:
        """Remember a found document, so a later put is an update of this version."""
        key = (collection, doc["_id"])
        if key not in self._docs:
            self._docs[key] = doc
            self._versions[key] = doc.get("_v", 0)
        return doc

    async def count(self, collection: str, flt: Mapping[str, Any] | None = None) -> int:
        flt = flt or {}
        check(flt)
        if self._laid_over(collection):
            return len(await self.find(collection, flt))
        return await self._count(collection, flt)

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

    def changes(self) -> list[Change]:
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

    async def _commit(self, changes: list[Change], outbox: list[OutboxEntry],
                      processed: list[tuple[str, bytes | None]]) -> None:
        raise NotImplementedError
