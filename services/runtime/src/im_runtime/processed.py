"""Records of handled commands: whose, and for which request.

A command's `command_id` is chosen by the caller. Stored under the id alone, a record
answered anyone who sent that id again with the first caller's reply (names included).
So a record is kept under the command, the actor and the id (`cmd:<command>:<actor>:<id>`,
the actor as a digest: no staff name in a key), with a digest of the request in front of
the reply: the same caller repeating the same request gets the same reply; the same
caller sending another request under that id is refused (`conflict`, 409); another
caller's id is simply another command.

Records are kept `IM_COMMAND_RECORD_DAYS` (7) days, far longer than any retry of a
command (the gateway's timeout, a client's backoff), then removed by the runtime's
expiry task: nx-27017 does not run MongoDB's TTL monitor (its SQLite layer purges
lazily, and only fields it reads as dates), so the runtime expires them itself on
either database. Events' processed ids are not expired: a replay must still find them.
The consumer's counts of attempts at messages handled alone (`im_attempts`) expire with
them: a message is retried for minutes or, through an outage, hours, never for days.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from typing import Any

import msgspec

PREFIX = "cmd:"
_ENC = msgspec.json.Encoder()
log = logging.getLogger("im.processed")


def command_key(name: str, command: Any) -> str:
    actor = command.actor
    who = hashlib.sha256(f"{actor.role}\0{actor.subject}".encode()).hexdigest()[:16]
    return f"{PREFIX}{name}:{who}:{command.command_id}"


def request_digest(command: Any) -> bytes:
    return hashlib.sha256(_ENC.encode(command)).hexdigest()[:32].encode()


def pack(digest: bytes, reply: bytes) -> bytes:
    return digest + b" " + reply


def unpack(stored: bytes) -> tuple[bytes, bytes]:
    digest, _, reply = stored.partition(b" ")
    return digest, reply


ATTEMPTS = "im_attempts"  # im_runtime.pipeline.events' record of attempts, by event id


async def expire(store: Any, days: float, now_ns: int | None = None) -> int:
    """Remove command records and counts of attempts older than `days` (MongoDB-wire
    stores; the in-memory store of tests keeps no times)."""
    db = getattr(store, "db", None)
    if db is None:
        return 0
    cutoff = (time.time_ns() if now_ns is None else now_ns) - int(days * 86400 * 1e9)
    result = await db["im_processed"].delete_many(
        {"_id": {"$regex": f"^{PREFIX}"}, "at": {"$lt": cutoff}})
    # Counts written before they carried a time have none: they go at the first round.
    attempts = await db[ATTEMPTS].delete_many(
        {"$or": [{"at": {"$lt": cutoff}}, {"at": None}]})
    return int(result.deleted_count) + int(attempts.deleted_count)


async def expire_every(store: Any, days: float, interval: float = 3600.0) -> None:
    while True:
        try:
            if removed := await expire(store, days):
                log.info("command records and attempts expired", extra={"removed": removed})
        except Exception:
            log.exception("expiring command records failed; next round tries again")
        await asyncio.sleep(interval)
