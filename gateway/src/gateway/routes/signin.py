"""Signing in and out: /api/auth/*. The session token goes back in the answer (the
dashboard keeps it in the tab); the refresh secret only in an HttpOnly, SameSite=Strict
cookie limited to /api/auth, which page scripts cannot read."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.datastructures import Cookie, State
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from contracts import Actor
from gateway.auth import ANY_ROLE, Claims, Tokens
from gateway.bodies import convert
from gateway.errors import ApiError
from gateway.signin import Grant, Me, SignIn

COOKIE, COOKIE_PATH = "im_refresh", "/api/auth"
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=256)]


class Credentials(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    username: Short
    password: Secret


class NewPassword(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    username: Short
    password: Secret  # the current one
    new_password: Secret


class SessionInfo(msgspec.Struct, frozen=True, kw_only=True):
    session_id: str
    created_at: datetime
    expires_at: datetime
    current: bool


def _with_cookie(request: Request[Any, Any, Any], grant: Grant,
                 cookie: str | None) -> Response[Grant]:
    signin: SignIn = request.app.state.signin
    return Response(grant, cookies=[_cookie(request, cookie, signin)],
                    headers={"Cache-Control": "no-store"})


def _cookie(request: Request[Any, Any, Any], value: str | None, signin: SignIn) -> Cookie:
    age = int(signin.sessions.lifetimes.total.total_seconds()) if value else 0
    return Cookie(key=COOKIE, value=value or "", path=COOKIE_PATH, httponly=True,
                  samesite="strict", secure=request.url.scheme == "https", max_age=age)


@post("/api/auth/login", tags=["sign-in"], status_code=200, security=[],
      summary="Sign in with user name and password: a session token and a refresh cookie")
async def login(request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]],
                state: State) -> Response[Grant]:
    signin: SignIn = state.signin
    form = convert(data, Credentials, "sign-in")
    grant, cookie = await signin.login(form.username, form.password)
    return _with_cookie(request, grant, cookie)


@post("/api/auth/refresh", tags=["sign-in"], status_code=200, security=[],
      summary="A new session token for the refresh cookie (which is replaced)")
async def refresh(request: Request[Any, Any, Any], state: State) -> Response[Grant]:
    signin: SignIn = state.signin
    cookie = request.cookies.get(COOKIE)
    if not cookie:
        raise ApiError("unauthorised", "not signed in")
    grant, fresh = await signin.refresh(cookie)
    return _with_cookie(request, grant, fresh)


@post("/api/auth/logout", tags=["sign-in"], status_code=200, security=[],
      summary="Sign out: the session ends on every instance within the check interval")
async def logout(request: Request[Any, Any, Any], state: State) -> Response[dict[str, bool]]:
    signin: SignIn = state.signin
    sid = _sid(request) or await signin.sessions.holding(request.cookies.get(COOKIE) or "")
    if sid:
        await signin.logout(sid)
    return Response({"signed_out": True}, cookies=[_cookie(request, None, signin)])


@post("/api/auth/password", tags=["sign-in"], status_code=200, security=[],
      summary="Change one's password with the current one (also the first sign-in's step)")
async def change_password(request: Request[Any, Any, Any], data: JSONBody[dict[str, Any]],
                          state: State) -> dict[str, bool]:
    signin: SignIn = state.signin
    form = convert(data, NewPassword, "password change")
    await signin.change_password(form.username, form.password, form.new_password,
                                 keep=_sid(request))
    return {"changed": True}


@get("/api/auth/me", tags=["sign-in"], guards=[ANY_ROLE],
     summary="Who is signed in: role, name and (for social workers) the deployed sites")
async def whoami(actor: NamedDependency[Actor], state: State) -> Me:
    signin: SignIn = state.signin
    doc = await signin.accounts.get(actor.subject)
    name = doc["name"] if doc else actor.subject  # a machine token has no account
    return Me(username=actor.subject, name=name, role=actor.role, sites=list(actor.sites),
              operator=actor.operator, provider=actor.provider)


@get("/api/auth/sessions", tags=["sign-in"], guards=[ANY_ROLE],
     summary="One's own open sessions")
async def my_sessions(request: Request[Any, Any, Any], actor: NamedDependency[Actor],
                      state: State) -> list[SessionInfo]:
    signin: SignIn = state.signin
    current = _sid(request)
    return [SessionInfo(session_id=d["_id"], created_at=_at(d["created_at"]),
                        expires_at=_at(d["expires_at"]), current=d["_id"] == current)
            for d in await signin.sessions.of(actor.subject)]


@post("/api/auth/sessions/{session_id:str}/end", tags=["sign-in"], guards=[ANY_ROLE],
      status_code=200, summary="End one of one's own sessions (another device)")
async def end_session(session_id: Annotated[str, PathParameter(max_length=64)],
                      actor: NamedDependency[Actor], state: State) -> dict[str, bool]:
    signin: SignIn = state.signin
    doc = await signin.sessions.get(session_id)
    if doc is None or doc["username"] != actor.subject:  # another's: as if it did not exist
        raise ApiError("not_found", "no such session of yours")
    await signin.logout(session_id)
    return {"ended": True}


def _at(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def _sid(request: Request[Any, Any, Any]) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    tokens: Tokens = request.app.state.tokens
    try:
        claims: Claims = tokens.claims(token.strip())
    except ApiError:
        return None
    return claims.sid


ROUTES = [login, refresh, logout, change_password, whoami, my_sessions, end_session]
