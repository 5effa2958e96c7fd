"""Sign-in sessions (collection `sessions`): one per sign-in, ended by logout, by the
admin disabling the user or resetting the password, by idling, or at the end of its
lifetime. The browser holds the refresh secret in an HttpOnly cookie; only its SHA-256
is stored, and each refresh replaces it. A refresh secret used again after it was
replaced means it was copied: the session ends (a grace of a few seconds lets two tabs
that refreshed at once both go on, as they share the cookie).

Times are stored as Unix seconds: nx-27017 stores a datetime given to `$set` as a string
(docs/mongo-compat.md), and these are set and compared."""

from __future__ import annotations

import hashlib
import secrets
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.asynchronous.database import AsyncDatabase

from gateway.errors import ApiError

SESSIONS = "sessions"
GRACE = timedelta(seconds=20)
KEEP_ENDED = timedelta(days=30)  # an ended session stays this long (who was signed in when)
_now = time.time


def _digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class Lifetimes:
    total: timedelta  # a session ends this long after sign-in, however busy
    idle: timedelta  # ... or when no refresh came for this long


class Sessions:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], lifetimes: Lifetimes) -> None:
        self.coll, self.lifetimes = db[SESSIONS], lifetimes

    async def open(self, username: str) -> tuple[str, str]:
        """A new session: its id and the refresh secret (`<id>.<secret>` in the cookie)."""
        sid, secret, now = uuid.uuid4().hex, secrets.token_urlsafe(32), _now()
        await self.coll.insert_one({
            "_id": sid, "username": username, "refresh": _digest(secret), "previous": None,
            "rotated_at": now, "created_at": now,
            "expires_at": now + self.lifetimes.total.total_seconds(), "ended": None})
        return sid, f"{sid}.{secret}"

    async def rotate(self, cookie: str) -> tuple[dict[str, Any], str]:
        """The session a refresh cookie belongs to, with the new cookie that replaces it."""
        sid, _, secret = cookie.partition(".")
        now, fresh = _now(), secrets.token_urlsafe(32)
        idle = self.lifetimes.idle.total_seconds()
        doc = await self.coll.find_one_and_update(
            {"_id": sid, "refresh": _digest(secret), "ended": None,
             "expires_at": {"$gt": now}, "rotated_at": {"$gt": now - idle}},
            {"$set": {"refresh": _digest(fresh), "previous": _digest(secret),
                      "rotated_at": now}},
            return_document=ReturnDocument.AFTER)
        if doc is not None:
            return doc, f"{sid}.{fresh}"
        await self._refused(sid, secret, now)
        raise AssertionError("unreachable")

    async def _refused(self, sid: str, secret: str, now: float) -> None:
        doc = await self.coll.find_one({"_id": sid}) if sid and secret else None
        if doc is None or doc["ended"]:
            raise ApiError("unauthorised", "the session has ended; sign in again")
        if doc["previous"] == _digest(secret) and doc["rotated_at"] > now - GRACE.total_seconds():
            raise ApiError("unauthorised", "the session was just refreshed elsewhere; retry",
                           retry="true")
        if doc["refresh"] != _digest(secret) and doc["previous"] != _digest(secret):
            raise ApiError("unauthorised", "the session has ended; sign in again")
        why = "expired" if doc["expires_at"] <= now or doc["refresh"] == _digest(secret) \
            else "reused"
        await self.end(sid, why)
        raise ApiError("unauthorised", f"the session has ended ({why}); sign in again")

    async def holding(self, cookie: str) -> str | None:
        """The session a refresh cookie proves (its current or previous secret), or None."""
        sid, _, secret = cookie.partition(".")
        doc = await self.coll.find_one({"_id": sid}) if sid and secret else None
        if doc and _digest(secret) in (doc["refresh"], doc["previous"]):
            return sid
        return None

    async def get(self, sid: str) -> dict[str, Any] | None:
        return await self.coll.find_one({"_id": sid})

    async def end(self, sid: str, why: str) -> None:
        await self.coll.update_one({"_id": sid, "ended": None},
                                   {"$set": {"ended": why, "ended_at": _now()}})

    async def end_all(self, username: str, why: str, keep: str | None = None) -> int:
        """Every open session of the user but `keep` (the one changing the password)."""
        flt: dict[str, Any] = {"username": username, "ended": None}
        if keep is not None:
            flt["_id"] = {"$ne": keep}
        result = await self.coll.update_many(
            flt,
            {"$set": {"ended": why, "ended_at": _now()}})
        return int(result.modified_count)

    async def of(self, username: str) -> list[dict[str, Any]]:
        return await self.coll.find({"username": username, "ended": None,
                                     "expires_at": {"$gt": _now()}}).sort(
            "created_at", -1).to_list(None)

    def alive(self, doc: dict[str, Any] | None) -> bool:
        now = _now()
        return bool(doc and not doc["ended"] and doc["expires_at"] > now
                    and doc["rotated_at"] > now - self.lifetimes.idle.total_seconds())

    async def tidy(self) -> int:
        """Sessions ended or expired longer than KEEP_ENDED ago are removed."""
        cutoff = _now() - KEEP_ENDED.total_seconds()
        removed = 0
        for flt in ({"ended_at": {"$lt": cutoff}}, {"expires_at": {"$lt": cutoff}}):
            removed += int((await self.coll.delete_many(flt)).deleted_count)
        return removed
