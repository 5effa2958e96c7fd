"""Signing in with a password, refreshing, signing out, and the actor behind a session
token. A session token is a short-lived JWT naming its session; who the user is, her
role and her sites are read from the account, the session and housing's deployment,
each kept for at most `check_every` seconds, so disabling a user or ending a session
takes effect within that time on every gateway instance."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field
from datetime import timedelta

import msgspec

from contracts import Actor
from gateway import passwords
from gateway.accounts import Accounts, User
from gateway.auth import Tokens
from gateway.deployments import Deployments
from gateway.errors import ApiError
from gateway.sessions import Sessions

log = logging.getLogger("im.gateway.signin")
REFUSED = "wrong user name or password"
ENDED = {"logout": "signed out", "password reset": "the password was reset",
         "password changed": "the password was changed", "expired": "the session has ended",
         "reused": "the session has ended (its refresh secret was used twice)"}


class Grant(msgspec.Struct, frozen=True, kw_only=True):
    """What a sign-in or refresh answers (the refresh cookie travels beside it)."""

    access_token: str
    expires_in: int  # seconds
    user: Me


class Me(msgspec.Struct, frozen=True, kw_only=True):
    username: str
    name: str
    role: str
    sites: list[str] = []
    operator: str | None = None
    provider: str | None = None
    must_change: bool = False


@dataclass
class SignIn:
    accounts: Accounts
    sessions: Sessions
    deployments: Deployments
    tokens: Tokens
    token_ttl: timedelta
    check_every: float
    _checked: dict[str, tuple[float, Actor | ApiError]] = field(default_factory=dict)

    async def login(self, username: str, password: str) -> tuple[Grant, str]:
        until = await self.accounts.locked_until(username)
        if until is not None:
            raise ApiError("unauthorised", "too many failed sign-ins: this account is locked "
                           f"until {until:%H:%M} UTC", locked_until=until.isoformat())
        doc = await self.accounts.get(username)
        good = await passwords.verify(doc["password_hash"] if doc else None, password)
        if not good or doc is None:
            until = await self.accounts.failed(username)
            # Staff user names only (never a resident's); the attempted password never.
            log.warning("sign-in refused for %r%s", username[:64],
                        " (now locked)" if until else "")
            if until is not None:
                raise ApiError("unauthorised", f"{REFUSED}; too many failed sign-ins: this "
                               f"account is locked until {until:%H:%M} UTC",
                               locked_until=until.isoformat())
            raise ApiError("unauthorised", REFUSED)
        if doc.get("disabled"):
            raise ApiError("unauthorised", "this account is disabled")
        await self.accounts.unlock(username)
        if doc.get("must_change"):
            raise ApiError("forbidden", "the password must be changed before the first "
                                        "sign-in", must_change="true")
        sid, cookie = await self.sessions.open(username)
        log.info("signed in: %s (%s)", username, doc["role"])
        return await self._grant(sid, username), cookie

    async def change_password(self, username: str, current: str, new: str,
                              keep: str | None = None) -> None:
        """With the current password (a session is not needed: a first sign-in with a
        one-time password starts here). Every session of the user ends but `keep`, the
        one she changes it in (when it is hers)."""
        if (why := passwords.problem(new)) is not None:
            raise ApiError("bad_request", why, field="new_password")
        if new == current:
            raise ApiError("bad_request", "the new password must differ from the current one",
                           field="new_password")
        doc = await self.accounts.get(username)
        if doc is None or doc.get("disabled") or await self.accounts.locked_until(username) \
                or not await passwords.verify(doc["password_hash"], current):
            if doc is None or not doc.get("disabled"):
                await self.accounts.failed(username)
            raise ApiError("unauthorised", REFUSED, field="password")
        await self.accounts.update(username, password_hash=await passwords.hash_password(new),
                                   must_change=False)
        mine = await self.sessions.get(keep) if keep else None
        await self.end_user(username, "password changed",
                            keep=keep if mine and mine["username"] == username else None)

    async def refresh(self, cookie: str) -> tuple[Grant, str]:
        doc, fresh = await self.sessions.rotate(cookie)
        return await self._grant(doc["_id"], doc["username"]), fresh

    async def logout(self, sid: str) -> None:
        await self.sessions.end(sid, "logout")
        self._forget(sid)

    async def end_user(self, username: str, why: str, keep: str | None = None) -> None:
        """Disabled or reset: every session of the user ends (checked again within
        `check_every` by every instance; at once on this one)."""
        await self.sessions.end_all(username, why, keep)
        self.forget_user(username, keep)

    def forget_user(self, username: str, keep: str | None = None) -> None:
        """This instance checks the user's sessions again at their next request (an ended
        session, a disabled or erased account: refused at once here)."""
        for sid, (_, known) in list(self._checked.items()):
            if sid != keep and (isinstance(known, ApiError) or known.subject == username):
                self._forget(sid)
        self.deployments.forget(username)

    async def _grant(self, sid: str, username: str) -> Grant:
        self._forget(sid)
        actor = await self.actor(sid)
        user = await self.accounts.one(username)
        ttl = int(self.token_ttl.total_seconds())
        token = self.tokens.mint(role=user.role, subject=username, sid=sid,
                                 ttl=self.token_ttl)
        return Grant(access_token=token, expires_in=ttl, user=me(user, actor))

    async def actor(self, sid: str) -> Actor:
        now = time.monotonic()
        known = self._checked.get(sid)
        if known is None or now - known[0] >= self.check_every:
            if len(self._checked) > 10_000:  # sessions long over: forget them
                self._checked = {k: v for k, v in self._checked.items()
                                 if now - v[0] < self.check_every}
            try:
                known = (now, await self._look_up(sid))
            except ApiError as exc:
                known = (now, exc)
            self._checked[sid] = known
        if isinstance(known[1], ApiError):
            raise known[1]
        return known[1]

    async def _look_up(self, sid: str) -> Actor:
        session = await self.sessions.get(sid)
        doc = await self.accounts.get(session["username"]) if session else None
        if doc is None or doc.get("disabled"):
            raise ApiError("unauthorised", "this account is disabled" if doc else
                           "the session has ended; sign in again")
        if not self.sessions.alive(session):
            assert session is not None
            why = ENDED.get(session["ended"] or "expired", "the session has ended")
            raise ApiError("unauthorised", f"{why}; sign in again")
        sites = await self.deployments.sites(doc["_id"]) if doc["role"] == "social_worker" \
            else ()
        return Actor(subject=doc["_id"], role=doc["role"], sites=sites,
                     operator=doc.get("operator"), provider=doc.get("provider"))

    async def tidy_every(self, interval: float) -> None:
        """Old sessions and failure counts leave the gateway's database (run as a task)."""
        while True:
            try:
                removed = await self.sessions.tidy() + await self.accounts.tidy()
                if removed:
                    log.info("sign-in housekeeping removed %d old records", removed)
            except Exception:  # the database may be away for a while: next round
                log.warning("sign-in housekeeping failed", exc_info=True)
            await asyncio.sleep(interval)

    def _forget(self, sid: str) -> None:
        self._checked.pop(sid, None)


def me(user: User, actor: Actor) -> Me:
    return Me(username=user.username, name=user.name, role=user.role,
              sites=list(actor.sites), operator=user.operator, provider=user.provider,
              must_change=user.must_change)
