"""The read model: every document of a service's own collections held in memory, loaded
at start and changed by the service's own commits (and, through `im.sync.<service>`
notices, by the commits of its other instances).

Reads (queries and read-only commands) are answered from here, so they cost no database
round trip: a lookup by id is a dict access, a filter on a field is answered from a
per-field index built on first use, and a count from a tally kept current with every
change (never by counting a collection per request). The database stays the truth; the
mirror is rebuilt from it on every start."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterable, Mapping
from typing import Any

from im_runtime.storage.filters import Doc, check, matches, ordered
from im_runtime.storage.store import Change

_UNSET: Any = object()


def _hashable(value: Any) -> bool:
    try:
        hash(value)
    except TypeError:
        return False
    return True


def _index_keys(value: Any) -> list[Any] | None:
    """The keys a field's value is found under (an array: each element, as MongoDB's
    multikey indexes); None when a value cannot be a key (a document)."""
    if isinstance(value, list):
        keys = [v for v in value]
        return keys if all(_hashable(k) for k in keys) else None
    return [value] if _hashable(value) else None


def _plain_equality(want: Any) -> bool:
    return not isinstance(want, Mapping | list) and _hashable(want)


class Mirror:
    def __init__(self) -> None:
        self.docs: dict[str, dict[str, Doc]] = {}
        # (collection, field) -> key -> ids; None marks a field that cannot be indexed
        self._indexes: dict[tuple[str, str], dict[Any, set[str]] | None] = {}
        # (collection, fields) -> Counter of value tuples; None: a value cannot be tallied
        self._tallies: dict[tuple[str, tuple[str, ...]], Counter[tuple[Any, ...]] | None] = {}
        # collection -> reloads under way (another instance's commit was announced): reads
        # of it wait for them, so a reader that saw that instance's reply sees its write
        self._reloading: dict[str, list[asyncio.Future[None]]] = {}

    # loading and changing
    def load(self, collection: str, docs: Iterable[Doc]) -> None:
        """The whole collection as the database holds it now (drops what was known)."""
        self.docs[collection] = {d["_id"]: d for d in docs}
        for key in [k for k in self._indexes if k[0] == collection]:
            del self._indexes[key]
        for tkey in [k for k in self._tallies if k[0] == collection]:
            del self._tallies[tkey]

    def apply(self, changes: Iterable[Change]) -> None:
        """A commit's changes, as the database now holds them (the version it gave each)."""
        for collection, id, doc, version in changes:
            self.put(collection, id, None if doc is None
                     else {**doc, "_id": id, "_v": (version or 0) + 1})

    def refresh(self, collection: str, id: str, doc: Doc | None) -> None:
        """A document reloaded from the database after another instance changed it: kept
        unless this instance already holds a newer version (its own later commit)."""
        mine = self.docs.get(collection, {}).get(id)
        if doc is not None and mine is not None and mine.get("_v", 0) > doc.get("_v", 0):
            return
        self.put(collection, id, doc)

    def put(self, collection: str, id: str, doc: Doc | None) -> None:
        docs = self.docs.setdefault(collection, {})
        old = docs.get(id)
        if doc is None:
            docs.pop(id, None)
        else:
            docs[id] = doc
        self._reindex(collection, id, old, doc)

    def _reindex(self, collection: str, id: str, old: Doc | None, new: Doc | None) -> None:
        for (coll, field), index in list(self._indexes.items()):
            if coll != collection or index is None:
                continue
            if old is not None:
                for k in _index_keys(old.get(field)) or ():
                    if (ids := index.get(k)) is not None:
                        ids.discard(id)
                        if not ids:
                            del index[k]
            if new is not None:
                keys = _index_keys(new.get(field))
                if keys is None:
                    self._indexes[(coll, field)] = None
                    continue
                for k in keys:
                    index.setdefault(k, set()).add(id)
        for (coll, fields), tally in list(self._tallies.items()):
            if coll != collection or tally is None:
                continue
            if old is not None:
                before = tuple(old.get(f) for f in fields)
                tally[before] -= 1
                if tally[before] <= 0:
                    del tally[before]
            if new is not None:
                after = tuple(new.get(f) for f in fields)
                if not all(_plain_equality(v) for v in after):
                    self._tallies[(coll, fields)] = None
                    continue
                tally[after] += 1

    # another instance's commits
    def hold(self, collections: Iterable[str]) -> asyncio.Future[None]:
        """Reads of these collections wait until the returned future is done (the
        reload of the documents another instance changed)."""
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        for collection in set(collections):
            self._reloading.setdefault(collection, []).append(done)
        return done

    def release(self, done: asyncio.Future[None]) -> None:
        if not done.done():
            done.set_result(None)
        for collection in [c for c, held in self._reloading.items() if done in held]:
            self._reloading[collection].remove(done)
            if not self._reloading[collection]:
                del self._reloading[collection]

    async def settled(self, collection: str) -> None:
        while held := self._reloading.get(collection):
            await asyncio.wait(list(held))

    # reading
    def get(self, collection: str, id: str) -> Doc | None:
        return self.docs.get(collection, {}).get(id)

    def _index(self, collection: str, field: str) -> dict[Any, set[str]] | None:
        key = (collection, field)
        if key not in self._indexes:
            index: dict[Any, set[str]] = {}
            for id, doc in self.docs.get(collection, {}).items():
                keys = _index_keys(doc.get(field))
                if keys is None:  # a document as the value: this field is not indexed
                    self._indexes[key] = None
                    return None
                for k in keys:
                    index.setdefault(k, set()).add(id)
            self._indexes[key] = index
        return self._indexes[key]

    def _candidates(self, collection: str, flt: Mapping[str, Any]) -> Iterable[Doc]:
        """The documents that may match: from one field's index where the filter names a
        value (or a list of values with $in), else the whole collection."""
        docs = self.docs.get(collection, {})
        for field, want in flt.items():
            if _plain_equality(want):
                values = [want]
            elif (isinstance(want, Mapping) and set(want) == {"$in"}
                  and all(_hashable(v) for v in want["$in"])):
                values = list(want["$in"])
            else:
                continue
            index = self._index(collection, field)
            if index is None:
                continue
            ids: set[str] = set()
            for v in values:
                ids |= index.get(v, set())
            return [docs[i] for i in ids]
        return docs.values()

    def find(self, collection: str, flt: Mapping[str, Any],
             sort: list[tuple[str, int]] | None = None, skip: int = 0,
             limit: int = 0) -> list[Doc]:
        check(flt)
        found = [d for d in self._candidates(collection, flt) if matches(d, flt)]
        return ordered(found, sort, skip, limit)

    def count(self, collection: str, flt: Mapping[str, Any]) -> int:
        check(flt)
        if not flt:
            return len(self.docs.get(collection, {}))
        if all(_plain_equality(v) for v in flt.values()):
            fields = tuple(sorted(flt))
            tally = self._tally(collection, fields)
            if tally is not None:
                return tally.get(tuple(flt[f] for f in fields), 0)
        return sum(1 for d in self._candidates(collection, flt) if matches(d, flt))

    def tally(self, collection: str, by: str | tuple[str, ...],
              where: Mapping[str, Any] | None = None) -> dict[Any, int]:
        """How many documents (matching `where`, plain equalities) have each value of
        `by` (a tuple of fields: each combination of their values)."""
        where = where or {}
        group = (by,) if isinstance(by, str) else by
        fields = (*sorted(where), *group)
        tally = self._tally(collection, fields) if all(
            _plain_equality(v) for v in where.values()) else None
        result: dict[Any, int] = {}
        if tally is None:  # a value that cannot be a key: count the matching documents
            for d in self._candidates(collection, where):
                values = tuple(d.get(f) for f in group)
                if matches(d, where) and all(_hashable(v) for v in values):
                    key = values[0] if isinstance(by, str) else values
                    result[key] = result.get(key, 0) + 1
            return result
        prefix = tuple(where[f] for f in sorted(where))
        for values, n in tally.items():
            if values[:len(prefix)] == prefix and n > 0:
                key = values[-1] if isinstance(by, str) else values[len(prefix):]
                result[key] = result.get(key, 0) + n
        return result

    def _tally(self, collection: str, fields: tuple[str, ...]
               ) -> Counter[tuple[Any, ...]] | None:
        key = (collection, fields)
        if key not in self._tallies:
            tally: Counter[tuple[Any, ...]] = Counter()
            for doc in self.docs.get(collection, {}).values():
                values = tuple(doc.get(f) for f in fields)
                if not all(_plain_equality(v) for v in values):  # counted by matching
                    self._tallies[key] = None
                    return None
                tally[values] += 1
            self._tallies[key] = tally
        return self._tallies[key]
