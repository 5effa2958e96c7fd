"""The MongoDB adapter: one database per service, its indexes, the read model loaded
from it, processed ids and the outbox. Its units of work (`mongo_unit`) commit through
the transaction strategy the server allows (`transactions`)."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from bson import BSON
from bson.codec_options import CodecOptions
from pymongo import AsyncMongoClient, IndexModel
from pymongo.errors import CollectionInvalid

from im_runtime.ids import naming
from im_runtime.storage.documents import Doc
from im_runtime.storage.mirror import Mirror
from im_runtime.storage.mongo_unit import OUTBOX, PROCESSED, MongoUnitOfWork
from im_runtime.storage.reader import Reader
from im_runtime.storage.store import Change
from im_runtime.storage.transactions import (
    StandaloneMongo,
    Transactions,
    for_server,
    uses_transactions,
)

__all__ = ["ERASED", "OUTBOX", "PROCESSED", "MongoStore", "MongoUnitOfWork",
           "StandaloneMongo", "as_stored", "uses_transactions"]

# PyMongo's DEBUG command log prints whole documents (personal data, free-text notes):
# never below INFO, whatever the root level.
logging.getLogger("pymongo.command").setLevel(logging.INFO)

ERASED = "im_erased"  # erasure keys of residents erased here: later events about them drop
# Not mirrored: the outbox is the relay's, processed ids are looked up by id on retries.
# (im_attempts: the consumer's own count of attempts at messages handled alone)
UNMIRRORED = frozenset({OUTBOX, PROCESSED, "im_attempts"})
_OPTIONS: CodecOptions[Any] = CodecOptions(tz_aware=True)

Committed = Callable[[list[tuple[str, str]]], Awaitable[None]]


def as_stored(doc: Doc) -> Doc:
    """The document as the database gives it back (tuples as lists, datetimes in UTC with
    their zone), so that a read from the mirror equals a read from the database."""
    return BSON.encode(doc, codec_options=_OPTIONS).decode(codec_options=_OPTIONS)


class MongoStore:
    """Owns the client (built in the service's start-up, never at import)."""

    def __init__(self, url: str, database: str) -> None:
        self.client: AsyncMongoClient[Doc] = AsyncMongoClient(url, tz_aware=True)
        self.db = self.client[database]
        self._url, self._name = url, database
        # How commits are made atomic: known once `start` has asked the server.
        self.transactions: Transactions = Transactions(self.client)
        self._collections: set[str] = set()
        # What reads are answered from: every document of the service's collections.
        self.mirror = Mirror()
        # Told of each commit's changes once they are in the database (the runtime tells
        # the service's other instances, `im.sync.<service>`).
        self.on_commit: Committed | None = None

    async def start(self, indexes: Mapping[str, Sequence[IndexModel]], *,
                    load: bool = True) -> None:
        """Indexes, then the mirror (`load=False`: the runtime loads it once it listens to
        its other instances' commits, so that none falls between the two)."""
        self.transactions = await for_server(self.client, self._url, self._name)
        await self.db[OUTBOX].create_index("seq")
        for collection, models in indexes.items():
            if models:
                await self.db[collection].create_indexes(list(models))
        if load:
            await self.load_mirror()

    async def load_mirror(self) -> None:
        """Every document of the service's own collections, as the database holds them."""
        for name in await self.db.list_collection_names():
            if name not in UNMIRRORED:
                self.mirror.load(name, await self.db[name].find({}).to_list(None))

    async def refresh(self, keys: Sequence[tuple[str, str]]) -> None:
        """Reload these documents after another instance committed them."""
        by_collection: dict[str, list[str]] = {}
        for collection, id in keys:
            if collection not in UNMIRRORED:
                by_collection.setdefault(collection, []).append(id)
        for collection, ids in by_collection.items():
            found = {d["_id"]: d for d in await self.db[collection].find(
                {"_id": {"$in": ids}}).to_list(None)}
            for id in ids:
                self.mirror.refresh(collection, id, found.get(id))

    def reader(self, source: str) -> Reader:
        """A read-only view for read handlers: answered from the mirror."""
        return Reader(self.mirror, source, MongoUnitOfWork(self, source))

    async def resync(self) -> int:
        """Compare the mirror's versions with the database's and reload what differs (a
        notice from another instance may have been lost while the bus was away)."""
        stale: list[tuple[str, str]] = []
        for name in await self.db.list_collection_names():
            if name in UNMIRRORED:
                continue
            held = self.mirror.docs.get(name, {})
            stored = {d["_id"]: d.get("_v", 0)
                      async for d in self.db[name].find({}, {"_v": 1})}
            stale += [(name, i) for i, v in stored.items()
                      if i not in held or held[i].get("_v", 0) != v]
            stale += [(name, i) for i in held if i not in stored]
        await self.refresh(stale)
        return len(stale)

    async def committed(self, changes: list[Change]) -> None:
        mirrored = [(c, i, None if d is None else as_stored(d), v)
                    for c, i, d, v in changes if c not in UNMIRRORED]
        self.mirror.apply(mirrored)
        if mirrored and self.on_commit is not None:
            await self.on_commit([(c, i) for c, i, _, _ in mirrored])

    async def close(self) -> None:
        await self.client.close()
        self.transactions.close()

    def unit_of_work(self, source: str) -> MongoUnitOfWork:
        return MongoUnitOfWork(self, source)

    async def processed_ids(self, ids: list[str]) -> dict[str, bytes | None]:
        found = await self.db[PROCESSED].find({"_id": {"$in": ids}}).to_list(None)
        return {d["_id"]: d.get("reply") for d in found}

    async def erased_keys(self, people: bool = False) -> set[str]:
        flt = {"person": {"$in": ["volunteer", "staff"]}} if people else {}
        return {d["_id"] async for d in self.db[ERASED].find(flt, {"_id": 1})}

    async def scrub_replies(self, terms: list[str]) -> int:
        """Forget stored command replies that mention any of `terms` (a retried command
        then gets a generic answer instead of the erased person's data)."""
        needles = [t.encode() for t in terms]
        hits = [d["_id"] async for d in self.db[PROCESSED].find(
            {"reply": {"$ne": None}}, {"reply": 1})
            if any(n in bytes(d["reply"]) for n in needles)]
        if hits:
            await self.db[PROCESSED].update_many({"_id": {"$in": hits}},
                                                 {"$set": {"reply": None}})
        # A command id may name the person too (the demo's `demo:enrol:<course>:<id>`):
        # such records go; a retry of that command meets an erased resident anyway.
        named = [d["_id"] async for d in self.db[PROCESSED].find(
            {"$or": [{"_id": {"$regex": naming(t)}} for t in terms]}, {"_id": 1})]
        if named:
            await self.db[PROCESSED].delete_many({"_id": {"$in": named}})
        return len(set(hits) | set(named))

    async def pending_outbox(self, limit: int) -> list[Doc]:
        return await self.db[OUTBOX].find({}).sort("seq", 1).limit(limit).to_list(None)

    async def remove_outbox(self, ids: list[str]) -> None:
        async with self.transactions.exclusive():  # never into a dead process's transaction
            await self.db[OUTBOX].delete_many({"_id": {"$in": ids}})

    async def prepare(self, collections: list[str]) -> None:
        """nx-27017 only: a collection first created inside a transaction that aborts stays
        half-made (reads fail with "no such table"), so create collections beforehand."""
        if not self.transactions.create_collections_first:
            return
        for name in collections:
            if name not in self._collections:
                try:
                    await self.db.create_collection(name)
                except CollectionInvalid:  # there already
                    pass
                self._collections.add(name)
