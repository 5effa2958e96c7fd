"""In-memory store: the fake that handler unit tests run against (no servers)."""

from __future__ import annotations

import json
import re
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import Any

import msgspec

from contracts import EventData, wrap
from im_runtime.errors import ConcurrencyConflict
from im_runtime.ids import naming
from im_runtime.storage.filters import check, matches, ordered
from im_runtime.storage.mirror import Mirror
from im_runtime.storage.reader import Reader
from im_runtime.storage.unit_of_work import Doc, OutboxEntry, UnitOfWork, clone


def mentioned(doc: Doc, terms: str | Iterable[str]) -> bool:
    """Whether the document's JSON holds the term (or one of them) in any case: a name
    may also be kept lowercased, for search."""
    text = json.dumps(doc, default=str, ensure_ascii=False).lower()
    return any(t.lower() in text for t in ([terms] if isinstance(terms, str) else terms))


# Loosely typed on purpose: tests read the fields of the very replies and events they expect.
Handler = Callable[[Any, UnitOfWork], Awaitable[Any]]


class MemoryStore:
    """`service` names the service whose units of work `feed`, `run` and `ask` open."""

    def __init__(self, service: str | None = None) -> None:
        self.service = service
        self.collections: dict[str, dict[str, Doc]] = {}
        self.outbox: list[OutboxEntry] = []
        self.processed: dict[str, bytes | None] = {}

    def unit_of_work(self, source: str) -> MemoryUnitOfWork:
        return MemoryUnitOfWork(self, source)

    def _own_unit_of_work(self) -> MemoryUnitOfWork:
        if self.service is None:
            raise TypeError("MemoryStore(service=...) names the service to open units of work for")
        return self.unit_of_work(self.service)

    async def handle(self, handler: Handler, message: Any) -> tuple[Any, list[Any]]:
        """One handler call in its own unit of work, committed: (reply, emitted events' data)."""
        uow = self._own_unit_of_work()
        reply = await handler(message, uow)
        await uow.commit()
        return reply, [e.data for e in uow.events]

    async def feed(self, handler: Handler, data: EventData, source: str,
                   at: datetime | None = None, id: str | None = None) -> list[Any]:
        """`data` from `source` (at `at`, by default now) through an event handler: the
        data of the events it emitted."""
        _, events = await self.handle(handler, wrap(data, source=source, time=at, id=id))
        return events

    async def run(self, handler: Handler, cmd: Any) -> Any:
        """A command handler, committed: its reply."""
        reply, _ = await self.handle(handler, cmd)
        return reply

    async def ask(self, handler: Handler, query: Any) -> Any:
        """A read handler (a query, a read command) on a read-only view: its answer."""
        if self.service is None:
            raise TypeError("MemoryStore(service=...) names the service to read for")
        return await handler(query, self.reader(self.service))

    def reader(self, source: str) -> Reader:
        """A read-only view of what is stored now (a mirror built for this one read)."""
        mirror = Mirror()
        for collection, docs in self.collections.items():
            mirror.load(collection, clone(list(docs.values())))
        return Reader(mirror, source)

    async def processed_ids(self, ids: list[str]) -> dict[str, bytes | None]:
        return {i: self.processed[i] for i in ids if i in self.processed}

    async def erased_keys(self, people: bool = False) -> set[str]:
        return {k for k, d in self.collections.get("im_erased", {}).items()
                if not people or d.get("person", "resident") != "resident"}

    async def scrub_replies(self, terms: list[str]) -> int:
        hits = [k for k, r in self.processed.items()
                if r is not None and any(t.encode() in r for t in terms)]
        for k in hits:
            self.processed[k] = None
        # as MongoStore: records whose command id names the person go
        named = [k for k in self.processed if any(re.search(naming(t), k) for t in terms)]
        for k in named:
            del self.processed[k]
        return len(set(hits) | set(named))

    def mentions(self, terms: str | Iterable[str]) -> list[str]:
        """"collection/id" of every document that mentions the term (or one of them):
        what an erasure must leave none of."""
        needles = [terms] if isinstance(terms, str) else list(terms)
        return [f"{collection}/{id}" for collection, docs in self.collections.items()
                for id, doc in docs.items() if mentioned(doc, needles)]

    def about(self, term: str) -> dict[str, Doc]:
        """Every document that mentions the term, by "collection/id"."""
        return {key: self.document(key) for key in self.mentions(term)}

    def snapshot(self) -> bytes:
        """All documents, encoded: equal snapshots mean nothing changed."""
        return msgspec.json.encode(self.collections)

    def document(self, key: str) -> Doc:
        """The document of a "collection/id" key (as `mentions` gives them)."""
        collection, id = key.split("/", 1)
        return self.collections[collection][id]

    async def pending_outbox(self, limit: int) -> list[Doc]:
        return [{"_id": e.id, "subject": e.subject, "body": e.body, "headers": e.headers}
                for e in self.outbox[:limit]]

    async def remove_outbox(self, ids: list[str]) -> None:
        self.outbox = [e for e in self.outbox if e.id not in set(ids)]


class MemoryUnitOfWork(UnitOfWork):
    def __init__(self, store: MemoryStore, source: str) -> None:
        super().__init__(source)
        self._store = store

    async def _load(self, collection: str, id: str) -> Doc | None:
        doc = self._store.collections.get(collection, {}).get(id)
        return clone(doc) if doc else None

    async def _query(self, collection: str, flt: Mapping[str, Any],
                     sort: list[tuple[str, int]] | None, skip: int, limit: int) -> list[Doc]:
        check(flt)
        docs = [d for d in self._store.collections.get(collection, {}).values() if matches(d, flt)]
        return clone(ordered(docs, sort, skip, limit))

    async def _count(self, collection: str, flt: Mapping[str, Any]) -> int:
        return len(await self._query(collection, flt, None, 0, 0))

    async def collections(self) -> list[str]:
        return sorted(c for c, docs in self._store.collections.items() if docs)

    async def _commit(self, changes: list[tuple[str, str, Doc | None, int | None]],
                      outbox: list[OutboxEntry], processed: list[tuple[str, bytes | None]]) -> None:
        for coll, id, _doc, version in changes:
            current = self._store.collections.get(coll, {}).get(id)
            if (current.get("_v", 0) if current else None) != version:
                raise ConcurrencyConflict(f"{coll}/{id} changed since it was read")
        if any(key in self._store.processed for key, _ in processed):
            raise ConcurrencyConflict("message already processed")
        for coll, id, doc, version in changes:
            docs = self._store.collections.setdefault(coll, {})
            if doc is None:
                docs.pop(id, None)
            else:
                docs[id] = {**clone(doc), "_v": (version or 0) + 1}
        self._store.outbox.extend(outbox)
        self._store.processed.update(processed)
