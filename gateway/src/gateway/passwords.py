"""Passwords: argon2id hashes (argon2-cffi's defaults, RFC 9106's second recommended
setting) computed off the event loop, and what a new password must be."""

from __future__ import annotations

import asyncio
import secrets
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

MIN_LENGTH, MAX_LENGTH = 12, 256
_HASHER = PasswordHasher()


def problem(password: str) -> str | None:
    """Why `password` may not be set, or None."""
    if len(password) < MIN_LENGTH:
        return f"a password needs at least {MIN_LENGTH} characters"
    if len(password) > MAX_LENGTH:
        return f"a password has at most {MAX_LENGTH} characters"
    return None


def generate() -> str:
    """A one-time password to hand over (about 96 random bits)."""
    return secrets.token_urlsafe(12)


async def hash_password(password: str) -> str:
    return await asyncio.to_thread(_HASHER.hash, password)


@cache
def _stand_in() -> str:
    return _HASHER.hash(secrets.token_urlsafe(16))


def _verify(stored: str | None, password: str) -> bool:
    try:
        # An unknown user costs the same as a known one, so timing does not tell them apart.
        return _HASHER.verify(stored or _stand_in(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


async def verify(stored: str | None, password: str) -> bool:
    return await asyncio.to_thread(_verify, stored, password)
