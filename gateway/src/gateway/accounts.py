"""User accounts held by the gateway (its own database, collection `users`) and the
count of failed sign-ins per name (collection `logins`) that locks an account out.

Failures are counted per name whether or not such a user exists, so the lock-out does
not tell an attacker which names are real. Times that are `$set` later are stored as
Unix seconds (nx-27017 stores a datetime given to `$set` as a string)."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

import msgspec
from pymongo import AsyncMongoClient, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import DuplicateKeyError, PyMongoError

from gateway.auth import Role
from gateway.errors import ApiError
from im_runtime import erasure_keys

USERS, LOGINS = "users", "logins"
ERASED_NAMES = "erased_users"  # keys of erased staff members' user names (never the names)
_now = time.time
# The same shape as a housing staff id: a social worker signs in with hers.
Username = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
PartyId = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]


def connect(mongo_url: str, db_prefix: str) -> tuple[AsyncMongoClient[dict[str, Any]],
                                                     AsyncDatabase[dict[str, Any]]]:
    """The gateway's own database ({IM_DB_PREFIX}gateway), shared with the audit log."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        mongo_url, tz_aware=True, serverSelectionTimeoutMS=2000)
    return client, client[f"{db_prefix}gateway"]


async def create_indexes(db: AsyncDatabase[dict[str, Any]]) -> None:
    try:
        await db["sessions"].create_indexes([IndexModel("username")])
        await db[LOGINS].create_indexes([IndexModel("locked_until")])
    except PyMongoError:
        pass  # created on a later start; everything works without them, only slower


class NewUser(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    username: Username
    role: Role
    name: Name
    operator: PartyId | None = None
    provider: PartyId | None = None


class User(msgspec.Struct, frozen=True, kw_only=True):
    """An account as shown to the city admin (never the hash)."""

    username: str
    role: Role
    name: str
    operator: str | None = None
    provider: str | None = None
    disabled: bool = False
    must_change: bool = False
    locked_until: datetime | None = None
    created_at: datetime


def check(new: NewUser) -> None:
    """An operator's account acts for one operator, a provider's for one provider."""
    for role, value in (("operator", new.operator), ("provider", new.provider)):
        if new.role == role and not value:
            raise ApiError("bad_request", f"a {role} account needs the {role} it acts for",
                           field=role)
        if new.role != role and value:
            raise ApiError("bad_request", f"only a {role} account names a {role}", field=role)


class Accounts:
    def __init__(self, db: AsyncDatabase[dict[str, Any]], attempts: int,
                 lockout: timedelta) -> None:
        self.users, self.logins, self.erased = db[USERS], db[LOGINS], db[ERASED_NAMES]
        self.attempts, self.lockout = attempts, lockout

    async def add(self, new: NewUser, password_hash: str, *, must_change: bool) -> User:
        check(new)
        # An erased staff member's name is not given again: her old sign-ins and the
        # audit's pseudonyms must not meet a new person's (staff_erasure.py).
        if await self.erased.find_one({"_id": erasure_keys.key(new.username)}) is not None:
            raise ApiError("conflict", f"user name {new.username} belonged to a staff "
                                       f"member whose data was erased; choose another",
                           field="username")
        now = datetime.now(UTC)
        doc = {"_id": new.username, "role": new.role, "name": new.name,
               "operator": new.operator, "provider": new.provider, "disabled": False,
               "password_hash": password_hash, "must_change": must_change,
               "created_at": now, "changed_at": time.time()}
        try:
            await self.users.insert_one(doc)
        except DuplicateKeyError:
            raise ApiError("conflict", f"user {new.username} exists",
                           field="username") from None
        return _user(doc, None)

    async def get(self, username: str) -> dict[str, Any] | None:
        return await self.users.find_one({"_id": username})

    async def one(self, username: str) -> User:
        doc = await self.get(username)
        if doc is None:
            raise ApiError("not_found", f"no user {username}", username=username)
        return _user(doc, await self.locked_until(username))

    async def all(self) -> list[User]:
        docs = await self.users.find({}).sort("_id", 1).to_list(None)
        locks = {d["_id"]: _at(d["locked_until"]) for d in await self.logins.find(
            {"locked_until": {"$gt": time.time()}}).to_list(None)}
        return [_user(d, locks.get(d["_id"])) for d in docs]

    async def update(self, username: str, **fields: Any) -> User:
        result = await self.users.update_one(
            {"_id": username}, {"$set": {**fields, "changed_at": time.time()}})
        if result.matched_count == 0:
            raise ApiError("not_found", f"no user {username}", username=username)
        return await self.one(username)

    async def locked_until(self, username: str) -> datetime | None:
        doc = await self.logins.find_one({"_id": username})
        until = doc.get("locked_until") if doc else None
        return _at(until) if until and until > time.time() else None

    async def failed(self, username: str) -> datetime | None:
        """Count a failed sign-in; the moment the name is locked until, once it is."""
        await self.logins.update_one({"_id": username}, {"$inc": {"failures": 1},
                                                         "$set": {"at": _now()}},
                                     upsert=True)
        doc = await self.logins.find_one({"_id": username}) or {}
        if doc.get("failures", 0) < self.attempts:
            return None
        until = time.time() + self.lockout.total_seconds()
        await self.logins.update_one({"_id": username},
                                     {"$set": {"failures": 0, "locked_until": until}})
        return _at(until)

    async def unlock(self, username: str) -> None:
        await self.logins.delete_one({"_id": username})

    async def tidy(self) -> int:
        """Failure counts untouched for a day (their lock, if any, long over) are removed."""
        return int((await self.logins.delete_many(
            {"at": {"$lt": _now() - 86400}})).deleted_count)


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _user(doc: dict[str, Any], locked_until: datetime | None) -> User:
    return User(username=doc["_id"], role=doc["role"], name=doc["name"],
                operator=doc.get("operator"), provider=doc.get("provider"),
                disabled=bool(doc.get("disabled")), must_change=bool(doc.get("must_change")),
                locked_until=locked_until, created_at=doc["created_at"])
