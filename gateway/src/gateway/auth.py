"""Bearer tokens (HS256 JWTs) and the guards that check who may use a route.

Two kinds of token: a machine's (`im token`), whose claims become the `contracts.Actor`
that commands and queries carry, and a signed-in user's session token, which names its
session (`sid`): its actor comes from the account, the live session and housing's staff
deployment (`gateway.signin`), never from the claims. The services trust the actor
because only the gateway, holding the key, can mint a valid token."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import jwt
import msgspec
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from contracts import Actor
from gateway.errors import ApiError

Role = Literal["city_admin", "social_worker", "operator", "provider", "auditor"]
ROLES: tuple[Role, ...] = ("city_admin", "social_worker", "operator", "provider", "auditor")
ALGORITHM = "HS256"


class Claims(msgspec.Struct, frozen=True, kw_only=True):
    sub: str
    role: Role  # never "system": that actor exists only inside the platform
    exp: int
    sites: list[str] = []
    operator: str | None = None
    provider: str | None = None
    sid: str | None = None  # a user's session token


class Tokens:
    def __init__(self, key: bytes) -> None:
        self.key = key

    def mint(self, *, role: Role, subject: str, sites: tuple[str, ...] = (),
             operator: str | None = None, provider: str | None = None,
             ttl: timedelta = timedelta(hours=8), sid: str | None = None) -> str:
        now = datetime.now(UTC)
        claims: dict[str, Any] = {"sub": subject, "role": role, "iat": now, "exp": now + ttl}
        if sid is not None:
            claims["sid"] = sid  # the rest is looked up, not claimed
        else:
            claims.update(sites=list(sites), operator=operator, provider=provider)
        return jwt.encode(claims, self.key, algorithm=ALGORITHM)

    def verify(self, token: str) -> Actor:
        c = self.claims(token)
        return Actor(subject=c.sub, role=c.role, sites=tuple(c.sites), operator=c.operator,
                     provider=c.provider)

    def claims(self, token: str) -> Claims:
        try:
            raw = jwt.decode(token, self.key, algorithms=[ALGORITHM],
                             options={"require": ["exp", "sub", "role"]})
            c = msgspec.convert(raw, Claims)
        except jwt.ExpiredSignatureError:
            raise ApiError("unauthorised", "the token has expired") from None
        except (jwt.InvalidTokenError, msgspec.ValidationError) as exc:
            raise ApiError("unauthorised", f"invalid token: {exc}") from None
        return c


def bearer(connection: ASGIConnection[Any, Any, Any, Any]) -> Claims:
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("unauthorised", "sign in, or send a bearer token (im token --role ROLE)")
    tokens: Tokens = connection.app.state.tokens
    return tokens.claims(token.strip())


async def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The verified actor of this request (checked once, then kept in the request state)."""
    state = connection.scope.setdefault("state", {})  # type: ignore[typeddict-item]
    if isinstance(state.get("actor"), Actor):
        return state["actor"]  # type: ignore[no-any-return]
    c = bearer(connection)
    if c.sid is not None:
        actor = await connection.app.state.signin.actor(c.sid)
        if actor.subject != c.sub:  # a token of one user naming another's session
            raise ApiError("unauthorised", "invalid token: not this session's user")
    else:
        actor = Actor(subject=c.sub, role=c.role, sites=tuple(c.sites), operator=c.operator,
                      provider=c.provider)
    state["actor"] = actor
    return actor


def allow(*roles: Role) -> Any:
    """A guard: a valid token (else 401) whose role is one of `roles` (else 403)."""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any],
                    _: BaseRouteHandler) -> None:
        actor = await authenticate(connection)
        if actor.role not in roles:
            raise ApiError("forbidden", f"role {actor.role} may not use this endpoint",
                           role=actor.role, allowed=",".join(roles))

    return guard


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    return await authenticate(request)


ANY_ROLE = allow(*ROLES)
STAFF = allow("city_admin", "social_worker")
