"""The MongoDB adapter: one database per service, its indexes, and the atomic commit
of a unit of work (documents, processed message ids and outbox entries together)."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from typing import Any

from bson import BSON, Binary
from bson.codec_options import CodecOptions
from pymongo import AsyncMongoClient, DeleteOne, IndexModel, InsertOne, ReplaceOne
from pymongo.asynchronous.client_session import AsyncClientSession
from pymongo.errors import (
    BulkWriteError,
    CollectionInvalid,
    DuplicateKeyError,
    OperationFailure,
    PyMongoError,
)

from im_runtime.errors import ConcurrencyConflict
from im_runtime.ids import naming
from im_runtime.mirror import Mirror
from im_runtime.reader import Reader
from im_runtime.transient import is_transient
from im_runtime.unit_of_work import Doc, OutboxEntry, UnitOfWork

# PyMongo's DEBUG command log prints whole documents (personal data, free-text notes):
# never below INFO, whatever the root level.
logging.getLogger("pymongo.command").setLevel(logging.INFO)
log = logging.getLogger("im.mongo")

OUTBOX = "im_outbox"
PROCESSED = "im_processed"
ERASED = "im_erased"  # erasure keys of residents erased here: later events about them drop
# Not mirrored: the outbox is the relay's, processed ids are looked up by id on retries.
# (im_attempts: the consumer's own count of attempts at messages handled alone)
UNMIRRORED = frozenset({OUTBOX, PROCESSED, "im_attempts"})
_OPTIONS: CodecOptions[Any] = CodecOptions(tz_aware=True)


def as_stored(doc: Doc) -> Doc:
    """The document as the database gives it back (tuples as lists, datetimes in UTC with
    their zone), so that a read from the mirror equals a read from the database."""
    return BSON.encode(doc, codec_options=_OPTIONS).decode(codec_options=_OPTIONS)

Committed = Callable[[list[tuple[str, str]]], Awaitable[None]]


class MongoStore:
    """Owns the client (built in the service's start-up, never at import)."""

    def __init__(self, url: str, database: str) -> None:
        self.client: AsyncMongoClient[Doc] = AsyncMongoClient(url, tz_aware=True)
        self.db = self.client[database]
        self._url, self._name = url, database
        self._transactions: bool | None = None
        self._local_lock = asyncio.Lock()
        self._lock_fd: int | None = None
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
        hello = await self.client.admin.command("hello")
        # Multi-document transactions need a replica set or mongos.
        self._transactions = "setName" in hello or hello.get("msg") == "isdbgrid"
        if not self._transactions:  # before anything else writes here
            async with self._serialised():
                pass
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

    async def committed(self, changes: list[tuple[str, str, Doc | None, int | None]]) -> None:
        mirrored = [(c, i, None if d is None else as_stored(d), v)
                    for c, i, d, v in changes if c not in UNMIRRORED]
        self.mirror.apply(mirrored)
        if mirrored and self.on_commit is not None:
            await self.on_commit([(c, i) for c, i, _, _ in mirrored])

    async def close(self) -> None:
        await self.client.close()
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def unit_of_work(self, source: str) -> MongoUnitOfWork:
        return MongoUnitOfWork(self, source)

    async def processed_ids(self, ids: list[str]) -> dict[str, bytes | None]:
        found = await self.db[PROCESSED].find({"_id": {"$in": ids}}).to_list(None)
        return {d["_id"]: d.get("reply") for d in found}

    async def erased_keys(self) -> set[str]:
        return {d["_id"] async for d in self.db[ERASED].find({}, {"_id": 1})}

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
        if self._transactions:
            await self.db[OUTBOX].delete_many({"_id": {"$in": ids}})
            return
        async with self._serialised():  # never into a dead process's transaction
            await self.db[OUTBOX].delete_many({"_id": {"$in": ids}})

    async def prepare(self, collections: list[str]) -> None:
        """nx-27017 only: a collection first created inside a transaction that aborts stays
        half-made (reads fail with "no such table"), so create collections beforehand."""
        if self._transactions:
            return
        for name in collections:
            if name not in self._collections:
                with contextlib.suppress(CollectionInvalid):
                    await self.db.create_collection(name)
                self._collections.add(name)

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncClientSession | None]:
        if self._transactions:
            async with self.client.start_session() as session:
                async with await session.start_transaction():
                    yield session
            return
        # Not a replica set: nx-27017 (embedded) or a standalone mongod. nx-27017's
        # transactions are SQLite savepoints on one connection per database, atomic but
        # not isolated, and they break when interleaved; so commits to one database are
        # serialised across processes with a file lock (docs/mongo-compat.md).
        async with self._serialised():
            async with self.client.start_session() as session:
                try:
                    txn = await session.start_transaction()
                except OperationFailure:  # a standalone mongod: no transactions at all
                    yield None
                    return
                self._mark(session)
                try:
                    async with txn:
                        yield session
                except BaseException as exc:
                    if not is_transient(exc):  # aborted here: nothing left open
                        self._mark(None)
                    raise
                self._mark(None)

    @contextlib.asynccontextmanager
    async def _serialised(self) -> AsyncIterator[None]:
        """This database's commits one at a time across processes (a file lock), and
        first the end of any transaction a process that died holding the lock left open.
        nx-27017 0.8.1 keeps a dead client's transaction open, and later writes on the
        database's one connection commit its half of a unit of work (found by the fault
        suite: counters changed twice, events missing; docs/mongo-compat.md #17). The
        lock file holds the session id of the transaction in progress."""
        async with self._local_lock:
            fd = self._lockfile()
            await asyncio.to_thread(fcntl.flock, fd, fcntl.LOCK_EX)
            try:
                orphan = os.pread(fd, 64, 0).decode(errors="replace").strip()
                if orphan:
                    with contextlib.suppress(ValueError):  # (not hex: nothing to end)
                        await self.client.admin.command(
                            {"endSessions": [{"id": Binary(bytes.fromhex(orphan), 4)}]})
                    os.ftruncate(fd, 0)
                    log.warning("ended a transaction left open by a process that died",
                                extra={"database": self._name})
                yield
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)

    def _mark(self, session: AsyncClientSession | None) -> None:
        """Record (or clear) the session whose transaction holds the lock."""
        fd = self._lockfile()
        os.ftruncate(fd, 0)
        if session is not None:
            os.pwrite(fd, bytes(session.session_id["id"]).hex().encode(), 0)

    def _lockfile(self) -> int:
        if self._lock_fd is None:
            digest = hashlib.sha1(f"{self._url}/{self._name}".encode()).hexdigest()[:16]
            path = os.path.join(tempfile.gettempdir(), f"im-mongo-{digest}.lock")
            self._lock_fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        return self._lock_fd


def _write_ops(changes: list[tuple[str, str, Doc | None, int | None]]
               ) -> tuple[dict[str, list[Any]], dict[str, int]]:
    ops: dict[str, list[Any]] = {}
    guarded: dict[str, int] = {}
    for coll, id, doc, version in changes:
        if doc is None:
            flt: dict[str, Any] = {"_id": id} if version is None else {"_id": id, "_v": version}
            op: Any = DeleteOne(flt)
        elif version is None:
            op = InsertOne({**doc, "_id": id, "_v": 1})
        else:
            op = ReplaceOne({"_id": id, "_v": version}, {**doc, "_id": id, "_v": version + 1})
        if version is not None:
            guarded[coll] = guarded.get(coll, 0) + 1
        ops.setdefault(coll, []).append(op)
    return ops, guarded


class MongoUnitOfWork(UnitOfWork):
    def __init__(self, store: MongoStore, source: str) -> None:
        super().__init__(source)
        self._store = store
        self.loads: list[tuple[str, str]] = []  # (collection, id) of each `get` that read

    async def _load(self, collection: str, id: str) -> Doc | None:
        self.loads.append((collection, id))
        return await self._store.db[collection].find_one({"_id": id})

    async def prefetch(self, collection: str, ids: Sequence[str]) -> None:
        """Read these documents with one query into the identity map (absent ones as None),
        so a later `get` of them needs no round trip: the read `get` would make, made
        earlier in the same unit. The commit's version guard applies to them as to any."""
        want = [i for i in dict.fromkeys(ids) if (collection, i) not in self._docs]
        if not want:
            return
        found = await self._store.db[collection].find({"_id": {"$in": want}}).to_list(None)
        by_id = {d["_id"]: d for d in found}
        for id in want:
            doc = by_id.get(id)
            self._docs[(collection, id)] = doc
            self._versions[(collection, id)] = doc.get("_v", 0) if doc is not None else None

    async def _query(self, collection: str, flt: Mapping[str, Any],
                     sort: list[tuple[str, int]] | None, skip: int, limit: int) -> list[Doc]:
        cursor = self._store.db[collection].find(dict(flt))
        if sort:
            cursor = cursor.sort(sort)
        if skip:
            cursor = cursor.skip(skip)
        if limit:
            cursor = cursor.limit(limit)
        return await cursor.to_list(None)

    async def _count(self, collection: str, flt: Mapping[str, Any]) -> int:
        return await self._store.db[collection].count_documents(dict(flt))

    async def collections(self) -> list[str]:
        return sorted(await self._store.db.list_collection_names())

    async def _commit(self, changes: list[tuple[str, str, Doc | None, int | None]],
                      outbox: list[OutboxEntry], processed: list[tuple[str, bytes | None]]) -> None:
        ops, guarded = _write_ops(changes)
        now = time.time_ns()
        if processed:
            ops.setdefault(PROCESSED, []).extend(
                InsertOne({"_id": k, "reply": r, "at": now}) for k, r in processed)
        if outbox:
            ops.setdefault(OUTBOX, []).extend(
                InsertOne({"_id": e.id, "seq": now + i, "subject": e.subject, "body": e.body,
                           **({"headers": e.headers} if e.headers else {})})
                for i, e in enumerate(outbox))
        await self._store.prepare(list(ops))
        try:
            async with self._store.transaction() as session:
                for coll, coll_ops in ops.items():
                    result = await self._store.db[coll].bulk_write(coll_ops, session=session)
                    hit = result.matched_count + result.deleted_count
                    if hit < guarded.get(coll, 0):
                        raise ConcurrencyConflict(f"a document in {coll} changed since it was read")
        except (DuplicateKeyError, BulkWriteError) as exc:
            raise ConcurrencyConflict(f"commit conflicted: {exc}") from exc
        except PyMongoError as exc:
            if exc.has_error_label("TransientTransactionError"):
                raise ConcurrencyConflict(str(exc)) from exc
            raise
        await self._store.committed(changes)
