"""What a city admin does to accounts, the same from the admin page and from `im users`:
add (with a one-time password), disable, enable, reset. Disabling and resetting end
every session of the user (other gateway instances notice within their check interval)."""

from __future__ import annotations

import time

import msgspec

from gateway import passwords
from gateway.accounts import Accounts, NewUser, User
from gateway.errors import ApiError
from gateway.sessions import Sessions


class Issued(msgspec.Struct, frozen=True, kw_only=True):
    """A user with the one-time password to hand over (changed at the first sign-in)."""

    user: User
    password: str


async def add(accounts: Accounts, new: NewUser, password: str | None = None) -> Issued:
    """With `password` (checked against the rules) the user signs in with it as it is;
    without, with a generated one-time password that must be changed first."""
    if password is not None and (why := passwords.problem(password)) is not None:
        raise ApiError("bad_request", why, field="password")
    chosen = password or passwords.generate()
    user = await accounts.add(new, await passwords.hash_password(chosen),
                              must_change=password is None)
    return Issued(user=user, password=chosen)


async def disable(accounts: Accounts, sessions: Sessions, username: str) -> User:
    # When: a disabled account goes after IM_RETENTION_GATEWAY_USERS days (staff_erasure.py)
    user = await accounts.update(username, disabled=True, disabled_at=time.time())
    await sessions.end_all(username, "disabled")
    return user


async def enable(accounts: Accounts, username: str) -> User:
    return await accounts.update(username, disabled=False, disabled_at=None)


async def reset(accounts: Accounts, sessions: Sessions, username: str) -> Issued:
    """A new one-time password; the lock-out is lifted and every session ends."""
    await accounts.one(username)
    chosen = passwords.generate()
    await accounts.update(username, password_hash=await passwords.hash_password(chosen),
                          must_change=True)
    await accounts.unlock(username)
    await sessions.end_all(username, "password reset")
    return Issued(user=await accounts.one(username), password=chosen)
