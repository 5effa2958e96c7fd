"""The audit log of reads of residents' personal data: append-only, the gateway's own.

Stored in the gateway's own MongoDB database ({IM_DB_PREFIX}gateway, collection audit)
rather than a JetStream stream: auditors ask "who read resident X" and "what did user Y
read", paged, which indexes answer directly, while a stream would have to be replayed
and filtered for every question. Entries are only ever inserted, with two exceptions the
law asks for: an erasure replaces the resident's id in its entries by the erasure key
(`erased:<key>`, still found by asking for that resident), and retention removes entries
past their period. A read whose audit entry cannot be written is refused (503): no
unrecorded reads.

Entries are written in batches (group commit): a read's entries join the batch being
gathered, and the read waits until that batch's one `insert_many` is acknowledged
before its answer leaves. While one batch is written the next one gathers, so under load
many reads share one write, and a lone read waits for one insert only."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections import deque
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from pymongo import AsyncMongoClient, IndexModel
from pymongo.errors import PyMongoError

from contracts import Actor
from contracts.privacy import legacy_erasure_key
from gateway.errors import unavailable
from gateway.schemas import AuditEntry
from im_runtime import erasure_keys

COLLECTION = "audit"


ERASED = "erased:"
# Entries pseudonymised before the platform had an erasure secret: `erased:<sha-256 hex>`.
LEGACY = {"resident_id": {"$gte": ERASED + "0", "$lt": ERASED + "g"}}


def erased_id(resident_id: str) -> str:
    return ERASED + erasure_keys.key(resident_id)


class AuditLog:
    def __init__(self, mongo_url: str, database: str, max_batch: int = 1000) -> None:
        self.mongo_url, self.database = mongo_url, database
        self.client: AsyncMongoClient[dict[str, Any]] | None = None
        self.max_batch = max_batch
        # entries gathered for the next write, each read's with the future it waits on
        self._pending: deque[tuple[list[dict[str, Any]], asyncio.Future[None]]] = deque()
        self._wake = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self.batches = 0  # writes made (the benchmark and tests read it)

    async def open(self) -> None:
        self.client = AsyncMongoClient(self.mongo_url, tz_aware=True,
                                       serverSelectionTimeoutMS=2000)
        try:
            await self._coll().create_indexes([IndexModel([("resident_id", 1), ("at", -1)]),
                                               IndexModel([("subject", 1), ("at", -1)]),
                                               IndexModel([("at", -1)])])
        except PyMongoError:
            pass  # created on a later start; writes still work without them
        with contextlib.suppress(PyMongoError):  # tried again at the next start
            await self.upgrade_erased()

    async def upgrade_erased(self) -> int:
        """Entries pseudonymised under a legacy key (reversible by trying ids) get the
        key made with the erasure secret; nothing to do without one."""
        coll, done = self._coll(), 0
        if erasure_keys.upgrade("0") == "0":
            return 0
        legacy = {d["resident_id"] async for d in coll.find(LEGACY, {"resident_id": 1})}
        for old in legacy:
            new = ERASED + erasure_keys.upgrade(old.removeprefix(ERASED))
            done += (await coll.update_many({"resident_id": old},
                                            {"$set": {"resident_id": new}})).modified_count
        return done

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._writer
            self._writer = None
        for _, waiter in self._pending:  # never answered without its audit
            if not waiter.done():
                waiter.set_exception(unavailable("audit", "the audit log is closing"))
        self._pending.clear()
        if self.client is not None:
            await self.client.close()

    def _coll(self) -> Any:
        assert self.client is not None, "the audit log is opened in the app's lifespan"
        return self.client[self.database][COLLECTION]

    async def record(self, actor: Actor, resident_ids: list[str], *, action: str,
                     sections: list[str], outcome: str = "read") -> None:
        if not resident_ids:
            return
        at = datetime.now(UTC)
        docs = [{"_id": uuid.uuid4().hex, "at": at, "subject": actor.subject,
                 "role": actor.role, "resident_id": rid, "action": action,
                 "outcome": outcome, "sections": sections} for rid in resident_ids]
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._pending.append((docs, waiter))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_batches(), name="audit-writer")
        self._wake.set()
        await waiter  # durable before the answer leaves

    async def _write_batches(self) -> None:
        while True:
            await self._wake.wait()
            self._wake.clear()
            while self._pending:
                batch: list[tuple[list[dict[str, Any]], asyncio.Future[None]]] = []
                size = 0
                while self._pending and (not batch or size + len(self._pending[0][0])
                                         <= self.max_batch):
                    docs, waiter = self._pending.popleft()
                    batch.append((docs, waiter))
                    size += len(docs)
                error: Exception | None = None
                try:
                    await self._coll().insert_many([d for docs, _ in batch for d in docs],
                                                   ordered=False)
                    self.batches += 1
                except PyMongoError as exc:
                    error = unavailable("audit", f"could not record the read: {exc}")
                for _, waiter in batch:
                    if waiter.done():
                        continue
                    if error is None:
                        waiter.set_result(None)
                    else:
                        waiter.set_exception(error)

    async def find(self, *, resident: str | None, subject: str | None, offset: int,
                   limit: int) -> tuple[list[AuditEntry], int]:
        flt: dict[str, Any] = {}
        if resident:
            flt["resident_id"] = {"$in": [resident, erased_id(resident),
                                          ERASED + legacy_erasure_key(resident)]}
        if subject:
            flt["subject"] = subject
        try:
            coll = self._coll()
            docs = await coll.find(flt).sort([("at", -1), ("_id", 1)]).skip(offset) \
                .limit(limit).to_list()
            total = await coll.count_documents(flt)
        except PyMongoError as exc:
            raise unavailable("audit", f"could not read the audit log: {exc}") from None
        return [msgspec.convert({**d, "id": d["_id"]}, AuditEntry) for d in docs], total

    async def pseudonymise(self, resident_id: str) -> int:
        """Erasure: the entries stay (who read what, when) but no longer name the resident."""
        try:
            result = await self._coll().update_many(
                {"resident_id": resident_id}, {"$set": {"resident_id": erased_id(resident_id)}})
        except PyMongoError as exc:
            raise unavailable("audit", f"could not pseudonymise the audit log: {exc}") from None
        return int(result.modified_count)

    async def pseudonymise_actor(self, username: str) -> int:
        """A staff member's erasure: the reads they made stay (what was read, when), no
        longer naming who read."""
        try:
            result = await self._coll().update_many(
                {"subject": username}, {"$set": {"subject": erased_id(username)}})
        except PyMongoError as exc:
            raise unavailable("audit", f"could not pseudonymise the audit log: {exc}") from None
        return int(result.modified_count)

    async def mentioning(self, terms: list[str]) -> int:
        flt = {"$or": [{"resident_id": {"$in": terms}}, {"subject": {"$in": terms}}]}
        return int(await self._coll().count_documents(flt))

    async def expire(self, as_of: datetime, days: int, dry_run: bool) -> dict[str, Any]:
        """Entries older than `days` before `as_of`: counted (dry run) or removed."""
        flt = {"at": {"$lt": as_of - timedelta(days=days)}}
        coll = self._coll()
        n = int(await coll.count_documents(flt))
        if not dry_run and n:
            n = int((await coll.delete_many(flt)).deleted_count)
        return {"collection": COLLECTION, "days": days, "expired": n}
