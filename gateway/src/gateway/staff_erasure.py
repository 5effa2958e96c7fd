"""The gateway's part when a staff member is erased (on request, four eyes) or their
account expires (disabled for `IM_RETENTION_GATEWAY_USERS` days): their account, sessions
and failed sign-ins go, and the audit entries of their reads no longer name them. Housing
removes their deployment (every service its own records of them); the privacy service
erases every message naming them from the bus (docs/privacy.md)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.asynchronous.database import AsyncDatabase

from gateway.accounts import ERASED_NAMES, LOGINS, USERS
from gateway.audit import AuditLog
from gateway.sessions import SESSIONS
from im_runtime import erasure_keys

log = logging.getLogger("im.gateway.staff_erasure")


class StaffErasure:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], audit: AuditLog,
                 forgotten: Callable[[str], None] = lambda username: None) -> None:
        # `forgotten`: this instance's sign-in drops what it knows of the user's sessions
        self.db, self.audit, self.forgotten = db, audit, forgotten

    async def forget(self, username: str, *, staff: bool = False) -> dict[str, int]:
        """Everything the gateway holds about this person as a user; the counts removed.
        After a staff member's erasure (`staff`) the name is recorded (as its key) and
        not given to anyone again; an account removed by retention leaves no record."""
        done = {
            USERS: (await self.db[USERS].delete_one({"_id": username})).deleted_count,
            LOGINS: (await self.db[LOGINS].delete_one({"_id": username})).deleted_count,
            SESSIONS: (await self.db[SESSIONS].delete_many({"username": username})
                       ).deleted_count,
            "audit": await self.audit.pseudonymise_actor(username)}
        self.forgotten(username)
        if staff:
            await self._record([erasure_keys.key(username)])
        if done[USERS]:
            log.info("a staff member's account was erased", extra={"removed": done})
        return done

    async def forget_erased(self, staff_keys: set[str]) -> int:
        """A gateway that was away when a staff member's erasure went out catches up:
        their account goes, once. Keys recorded already were dealt with (and their names
        refused since), so an account is never removed for an erasure older than itself.
        How many went."""
        if not staff_keys:
            return 0
        done = {d["_id"] for d in await self.db[ERASED_NAMES].find(
            {"_id": {"$in": sorted(staff_keys)}}, {"_id": 1}).to_list(None)}
        new = staff_keys - done
        if not new:
            return 0
        names = [d["_id"] for d in await self.db[USERS].find({}, {"_id": 1}).to_list(None)]
        gone = [n for n in names if erasure_keys.key(n) in new]
        for name in gone:
            await self.forget(name, staff=True)
        await self._record(sorted(new))
        return len(gone)

    async def _record(self, keys: list[str]) -> None:
        for key in keys:
            await self.db[ERASED_NAMES].update_one(
                {"_id": key}, {"$setOnInsert": {"at": datetime.now(UTC)}}, upsert=True)

    async def expired(self, as_of: datetime, days: int, dry_run: bool) -> list[str]:
        """Accounts disabled longer than `days` before `as_of`: listed, or (not `dry_run`)
        forgotten. Disabling stores the time (`disabled_at`, epoch seconds)."""
        cutoff = (as_of - timedelta(days=days)).timestamp()
        docs = await self.db[USERS].find(
            {"disabled": True, "disabled_at": {"$lt": cutoff}}, {"_id": 1}).to_list(None)
        names = sorted(d["_id"] for d in docs)
        if not dry_run:
            for name in names:
                await self.forget(name)
        return names
