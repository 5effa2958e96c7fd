"""`python -m im_cli.nxserver ARGS`: nx-27017 (the embedded MongoDB-wire server) with
what an erasure needs from its SQLite files; takes nx-27017's own arguments.

- Every SQLite connection the server opens runs with `secure_delete=ON`: deleted rows
  and freed pages are overwritten with zeros instead of lingering in the database file.
- MongoDB's `fsync` command is answered with a truncating WAL checkpoint of every open
  database: the `-wal` files keep the pages as they were before a deletion until they
  are checkpointed, and a plain checkpoint leaves the file (and those bytes) in place.
  The privacy service sends it when an erasure completes (services/privacy/storage.py).

nx-27017 0.8.1 has neither (it ignores `fsync`), so they are added here, in the one
process that runs it, and listed in docs/mongo-compat.md."""

from __future__ import annotations

import logging
import sqlite3 as _stdlib_sqlite3
import sys
import time
from typing import Any

log = logging.getLogger("im.nxserver")
BUSY_RETRIES, BUSY_PAUSE = 50, 0.02
LOCK_BUSY = 46  # MongoDB's error code for a lock that could not be taken


def _secure(connect: Any) -> Any:
    def connect_securely(*args: Any, **kwargs: Any) -> Any:
        conn = connect(*args, **kwargs)
        conn.execute("PRAGMA secure_delete=ON")
        return conn
    return connect_securely


def secure_connections() -> None:
    """Before nx-27017 opens anything: every connection of this process deletes securely
    (neosqlite opens its main, probe and migration connections through this module)."""
    from neosqlite import _sqlite

    module = _sqlite.sqlite3
    if not getattr(module.connect, "_im_secure", False):
        module.connect = _secure(module.connect)
        module.connect._im_secure = True  # type: ignore[attr-defined]
    if module is not _stdlib_sqlite3 and not getattr(_stdlib_sqlite3.connect, "_im_secure",
                                                       False):
        _stdlib_sqlite3.connect = _secure(_stdlib_sqlite3.connect)  # type: ignore[assignment]
        _stdlib_sqlite3.connect._im_secure = True  # type: ignore[attr-defined]


def _command(msg: dict[str, Any]) -> dict[str, Any]:
    for kind, doc in msg.get("sections", ()):
        if kind == "body" and isinstance(doc, dict):
            return doc
    return {}


def checkpoint_all(handler: Any) -> dict[str, Any]:
    """A truncating checkpoint of every open database, each under its own lock (the
    handler's lock order: a database's lock before its dictionary lock)."""
    with handler._dict_lock:
        names = list(handler._conns)
    busy = []
    for name in names:
        with handler._lock_for(name):
            conn = handler._conns.get(name)
            if conn is None:  # evicted meanwhile: closing it checkpointed it
                continue
            if not _checkpoint(conn.db):
                busy.append(name)
    if busy:
        return {"ok": 0, "code": LOCK_BUSY, "codeName": "LockBusy",
                "errmsg": f"checkpoint busy for {len(busy)} database(s); try again"}
    return {"ok": 1, "numFiles": len(names)}


def _checkpoint(db: Any) -> bool:
    for _ in range(BUSY_RETRIES):
        try:
            busy, _, _ = db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
        except Exception:  # a transaction of this connection is open: wait for its end
            busy = 1
        if not busy:
            return True
        time.sleep(BUSY_PAUSE)
    return False


def handler_class() -> type:
    from nx_27017.handler import NeoSQLiteHandler

    class CheckpointingHandler(NeoSQLiteHandler):  # type: ignore[misc]
        def handle_command(self, msg: dict[str, Any]) -> tuple[int, dict[str, Any]]:
            if "fsync" in _command(msg):
                return msg["request_id"], checkpoint_all(self)
            result: tuple[int, dict[str, Any]] = super().handle_command(msg)
            return result

    return CheckpointingHandler


def main(argv: list[str] | None = None) -> int:
    secure_connections()
    import nx_27017.daemon
    import nx_27017.nx_27017

    # run_server_sync builds the handler from the daemon module's name for it.
    nx_27017.daemon.NeoSQLiteHandler = handler_class()  # type: ignore[attr-defined]
    sys.argv = ["nx-27017", *(sys.argv[1:] if argv is None else argv)]
    nx_27017.nx_27017.main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
