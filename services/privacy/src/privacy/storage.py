"""After an erasure: ask the database server to leave no copy of deleted data in its
write-ahead log.

The embedded nx-27017 (started by `im_cli.nxserver`) runs SQLite with `secure_delete`,
so deleted rows are zeroed in the database files, and answers MongoDB's `fsync` command
with a truncating WAL checkpoint, which empties the `-wal` files that still hold the
pages as they were before the deletions. On MongoDB `fsync` is an administrator's
command the privacy user does not hold; what MongoDB promises instead is in
docs/privacy.md."""

from __future__ import annotations

import logging
from typing import Any

from pymongo.errors import OperationFailure, PyMongoError

log = logging.getLogger("im.privacy.storage")
LOCK_BUSY = 46  # im_cli.nxserver's answer while a transaction holds a database: retry


async def checkpoint(store: Any) -> bool:
    """True when the database server confirmed the checkpoint."""
    client = getattr(store, "client", None)
    if client is None:  # the in-memory store of the unit tests keeps nothing on disk
        return True
    try:
        await client.admin.command("fsync")
    except OperationFailure as exc:
        if exc.code == LOCK_BUSY:  # nx-27017: a transaction kept a database busy
            raise
        # MongoDB without the right: nothing to do here (docs/privacy.md).
        log.info("the database server did not checkpoint: %s", exc.code)
        return False
    except PyMongoError:
        log.exception("checkpoint after an erasure failed; the next look retries")
        raise
    return True
