"""The MongoDB unit of work: reads by id or filter, and the atomic commit of documents
(each guarded by the version it was read at), processed message ids and outbox entries,
in one transaction of the store's strategy (im_runtime.storage.transactions)."""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from pymongo import DeleteOne, InsertOne, ReplaceOne
from pymongo.errors import BulkWriteError, DuplicateKeyError, PyMongoError

from im_runtime.errors import ConcurrencyConflict
from im_runtime.storage.documents import Doc
from im_runtime.storage.outbox_entry import OutboxEntry
from im_runtime.storage.store import Change
from im_runtime.storage.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from im_runtime.storage.mongo import MongoStore

OUTBOX = "im_outbox"
PROCESSED = "im_processed"


def _write_ops(changes: list[Change]) -> tuple[dict[str, list[Any]], dict[str, int]]:
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

    async def _commit(self, changes: list[Change], outbox: list[OutboxEntry],
                      processed: list[tuple[str, bytes | None]]) -> None:
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
            async with self._store.transactions.transaction() as session:
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
