"""Bearer tokens (HS256 JWTs) and the guards that check who may use a route.

The token's claims become the `contracts.Actor` that commands and queries carry; the
services trust it because only the gateway, holding the key, can mint a valid one."""

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


class Tokens:
    def __init__(self, key: bytes) -> None:
        self.key = key

    def mint(self, *, role: Role, subject: str, sites: tuple[str, ...] = (),
             operator: str | None = None, provider: str | None = None,
             ttl: timedelta = timedelta(hours=8)) -> str:
        now = datetime.now(UTC)
        claims = {"sub": subject, "role": role, "sites": list(sites), "operator": operator,
                  "provider": provider, "iat": now, "exp": now + ttl}
        return jwt.encode(claims, self.key, algorithm=ALGORITHM)

    def verify(self, token: str) -> Actor:
        try:
            raw = jwt.decode(token, self.key, algorithms=[ALGORITHM],
                             options={"require": ["exp", "sub", "role"]})
            c = msgspec.convert(raw, Claims)
        except jwt.ExpiredSignatureError:
            raise ApiError("unauthorised", "the token has expired") from None
        except (jwt.InvalidTokenError, msgspec.ValidationError) as exc:
            raise ApiError("unauthorised", f"invalid token: {exc}") from None
        return Actor(subject=c.sub, role=c.role, sites=tuple(c.sites), operator=c.operator,
                     provider=c.provider)


def authenticate(connection: ASGIConnection[Any, Any, Any, Any]) -> Actor:
    """The verified actor of this request (checked once, then kept in the request state)."""
    state = connection.scope.setdefault("state", {})  # type: ignore[typeddict-item]
    if isinstance(state.get("actor"), Actor):
        return state["actor"]  # type: ignore[no-any-return]
    header = connection.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise ApiError("unauthorised", "a bearer token is required (im token --role ROLE)")
    tokens: Tokens = connection.app.state.tokens
    actor = tokens.verify(token.strip())
    state["actor"] = actor
    return actor


def allow(*roles: Role) -> Any:
    """A guard: a valid token (else 401) whose role is one of `roles` (else 403)."""

    def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        actor = authenticate(connection)
        if actor.role not in roles:
            raise ApiError("forbidden", f"role {actor.role} may not use this endpoint",
                           role=actor.role, allowed=",".join(roles))

    return guard


async def provide_actor(request: Request[Any, Any, Any]) -> Actor:
    return authenticate(request)


ANY_ROLE = allow(*ROLES)
STAFF = allow("city_admin", "social_worker")
