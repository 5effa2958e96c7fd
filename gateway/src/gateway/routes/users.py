"""The city admin's management of user accounts: /api/v1/users."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from contracts import Actor
from gateway import useradmin
from gateway.accounts import NewUser, User
from gateway.auth import allow
from gateway.bodies import convert
from gateway.errors import ApiError
from gateway.signin import SignIn
from gateway.useradmin import Issued

ADMIN = [allow("city_admin")]
Name = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@get("/api/v1/users", tags=["users"], guards=ADMIN, summary="Every user account")
async def list_users(state: State) -> list[User]:
    signin: SignIn = state.signin
    return await signin.accounts.all()


@post("/api/v1/users", tags=["users"], guards=ADMIN, status_code=201,
      summary="Add a user: answers a one-time password, changed at the first sign-in")
async def add_user(data: JSONBody[dict[str, Any]], state: State) -> Issued:
    signin: SignIn = state.signin
    return await useradmin.add(signin.accounts, convert(data, NewUser, "user"))


@post("/api/v1/users/{username:str}/disable", tags=["users"], guards=ADMIN, status_code=200,
      summary="Disable a user: every session ends (within the check interval everywhere)")
async def disable_user(username: Name, actor: NamedDependency[Actor], state: State) -> User:
    signin: SignIn = state.signin
    if username == actor.subject:
        raise ApiError("conflict", "you cannot disable your own account", username=username)
    user = await useradmin.disable(signin.accounts, signin.sessions, username)
    await signin.end_user(username, "disabled")
    return user


@post("/api/v1/users/{username:str}/enable", tags=["users"], guards=ADMIN, status_code=200,
      summary="Enable a disabled user again")
async def enable_user(username: Name, state: State) -> User:
    signin: SignIn = state.signin
    return await useradmin.enable(signin.accounts, username)


@post("/api/v1/users/{username:str}/reset", tags=["users"], guards=ADMIN, status_code=200,
      summary="A new one-time password; lifts a lock-out and ends every session")
async def reset_user(username: Name, state: State) -> Issued:
    signin: SignIn = state.signin
    issued = await useradmin.reset(signin.accounts, signin.sessions, username)
    await signin.end_user(username, "password reset")
    return issued


ROUTES = [list_users, add_user, disable_user, enable_user, reset_user]
