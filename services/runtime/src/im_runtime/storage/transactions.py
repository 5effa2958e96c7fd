"""How a MongoDB-wire server commits a unit of work atomically, chosen at start:

- a replica set or mongos: one multi-document transaction per commit;
- nx-27017: its transactions are SQLite savepoints on one connection per database,
  atomic but not isolated, and they break when interleaved; so commits to one database
  are serialised across processes with a file lock (docs/mongo-compat.md);
- a standalone mongod has no multi-document transactions: refused with what to do."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import hashlib
import logging
import os
import tempfile
from collections.abc import AsyncIterator, Mapping
from typing import Any

from bson import Binary
from pymongo import AsyncMongoClient
from pymongo.asynchronous.client_session import AsyncClientSession

from im_runtime.transient import is_transient

log = logging.getLogger("im.mongo")


class StandaloneMongo(RuntimeError):
    """A standalone mongod: no multi-document transactions, so no atomic commit of a
    state change with its events. Refused at start instead of failing on the first write."""


def replicated(hello: Mapping[str, Any]) -> bool:
    """A replica set member or a mongos: multi-document transactions."""
    return "setName" in hello or hello.get("msg") == "isdbgrid"


def uses_transactions(hello: Mapping[str, Any], build: Mapping[str, Any], url: str) -> bool:
    """True on a replica set or mongos; False on nx-27017 (serialised savepoints); a
    standalone mongod is refused with what to do."""
    if replicated(hello):
        return True
    if build.get("process") == "nx_27017":
        return False
    host = url.rsplit("@", 1)[-1]  # never the password
    raise StandaloneMongo(
        f"{host} is a standalone mongod: the platform commits each change with its events "
        "in one multi-document transaction, which needs a replica set. Start mongod with "
        "--replSet rs0 and run rs.initiate() once (a single-node replica set is enough), "
        "then connect with ?replicaSet=rs0.")


class Transactions:
    """A replica set's (or mongos's) multi-document transactions."""

    # nx-27017 only: a collection first created inside a transaction that aborts stays
    # half-made, so the unit of work creates its collections beforehand.
    create_collections_first = False

    def __init__(self, client: AsyncMongoClient[Any]) -> None:
        self.client = client

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncClientSession | None]:
        async with self.client.start_session() as session:
            async with await session.start_transaction():
                yield session

    @contextlib.asynccontextmanager
    async def exclusive(self) -> AsyncIterator[None]:
        """A write outside a unit of work (the outbox relay's removal)."""
        yield

    def close(self) -> None:
        pass


class SerialisedSavepoints(Transactions):
    """nx-27017: this database's commits one at a time across processes (a file lock),
    and first the end of any transaction a process that died holding the lock left open.
    nx-27017 0.8.1 keeps a dead client's transaction open, and later writes on the
    database's one connection commit its half of a unit of work (found by the fault
    suite: counters changed twice, events missing; docs/mongo-compat.md #17). The lock
    file holds the session id of the transaction in progress."""

    create_collections_first = True

    def __init__(self, client: AsyncMongoClient[Any], url: str, database: str) -> None:
        super().__init__(client)
        self._url, self._name = url, database
        self._local_lock = asyncio.Lock()
        self._lock_fd: int | None = None

    @contextlib.asynccontextmanager
    async def transaction(self) -> AsyncIterator[AsyncClientSession | None]:
        async with self.exclusive():
            async with self.client.start_session() as session:
                txn = await session.start_transaction()
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
    async def exclusive(self) -> AsyncIterator[None]:
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

    def close(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None


async def for_server(client: AsyncMongoClient[Any], url: str, database: str) -> Transactions:
    """The strategy the server allows (a standalone mongod: StandaloneMongo)."""
    hello = await client.admin.command("hello")
    build = {} if replicated(hello) else await client.admin.command("buildInfo")
    if uses_transactions(hello, build, url):
        return Transactions(client)
    serialised = SerialisedSavepoints(client, url, database)
    async with serialised.exclusive():  # before anything else writes here
        pass
    return serialised
