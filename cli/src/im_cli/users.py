"""`im users add|list|disable|enable|reset`: the gateway's user accounts, in its own
database (IM_MONGO_URL, IM_DB_PREFIX: the same as the gateway's). A new or reset user
gets a one-time password, printed once, that is changed at the first sign-in."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import sys
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from im_cli.commands import CliError

EMBEDDED_SECRET = Path("var") / "erasure.key"  # `im up --var var` (the default)
ROLES = ("city_admin", "social_worker", "operator", "provider", "auditor")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("users", help="the gateway's user accounts (sign-in)",
                       description="Manage the accounts staff sign in with.")
    usub = p.add_subparsers(dest="users_cmd", required=True)
    add = usub.add_parser("add", help="add a user; prints a one-time password")
    add.add_argument("username", help="sign-in name (a social worker's is her staff id)")
    add.add_argument("--role", required=True, choices=ROLES,
                     help="what the user may do and see")
    add.add_argument("--name", default=None, help="the person's name (default: username)")
    add.add_argument("--operator", default=None, help="the operator an operator acts for")
    add.add_argument("--provider", default=None, help="the provider a provider acts for")
    add.add_argument("--password-stdin", action="store_true",
                     help="read the password from stdin instead of generating a one-time one")
    add.set_defaults(func=_run, action=_add)
    ls = usub.add_parser("list", help="list the users")
    ls.set_defaults(func=_run, action=_list)
    for name, action, what in (("disable", _disable, "disable a user and end her sessions"),
                               ("enable", _enable, "enable a disabled user"),
                               ("reset", _reset, "new one-time password; lifts a lock-out")):
        q = usub.add_parser(name, help=what)
        q.add_argument("username", help="the user's sign-in name")
        q.set_defaults(func=_run, action=action)


def _run(args: argparse.Namespace) -> int:
    from gateway.errors import ApiError
    from im_runtime import erasure_keys
    from im_runtime.settings import Settings, SettingsError, erasure_secret

    try:
        settings = Settings.from_env()
        # Erased staff members' names are refused by their keys, made with the secret
        # the gateway uses: the environment's, else the one `im up` keeps.
        secret = settings.erasure_secret
        if secret is None and EMBEDDED_SECRET.is_file():
            secret = erasure_secret({"IM_ERASURE_SECRET_FILE": str(EMBEDDED_SECRET)})
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    erasure_keys.use(secret)
    try:
        return asyncio.run(_with_db(settings, args.action, args))
    except ApiError as exc:
        raise CliError(exc.message) from None


async def _with_db(settings: Any, action: Callable[..., Awaitable[int]],
                   args: argparse.Namespace) -> int:
    from pymongo.errors import PyMongoError

    from gateway import accounts
    from gateway.sessions import Lifetimes, Sessions

    client, db = accounts.connect(settings.mongo_url, settings.db_prefix)
    try:
        await accounts.create_indexes(db)
        users = accounts.Accounts(db, attempts=5, lockout=timedelta(minutes=15))
        sessions = Sessions(db, Lifetimes(total=timedelta(hours=10), idle=timedelta(hours=1)))
        return await action(users, sessions, args)
    except PyMongoError as exc:
        raise CliError(f"cannot reach the gateway's database at {settings.mongo_url} "
                       f"(is `make run` up? IM_MONGO_URL): {exc}") from None
    finally:
        await client.close()


async def _add(users: Any, sessions: Any, args: argparse.Namespace) -> int:
    import msgspec

    from gateway import useradmin
    from gateway.accounts import NewUser

    try:
        new = msgspec.convert({"username": args.username, "role": args.role,
                               "name": args.name or args.username, "operator": args.operator,
                               "provider": args.provider}, NewUser)
    except msgspec.ValidationError as exc:
        raise CliError(f"invalid user: {exc}") from None
    password = _read_password() if args.password_stdin else None
    issued = await useradmin.add(users, new, password)
    print(f"added {issued.user.username} ({issued.user.role})")
    if password is None:
        _print_once(issued.password)
    return 0


async def _list(users: Any, sessions: Any, args: argparse.Namespace) -> int:
    rows = await users.all()
    print(f"{'USERNAME':<24} {'ROLE':<14} {'STATE':<10} NAME")
    for u in rows:
        state = "disabled" if u.disabled else "locked" if u.locked_until else \
            "new" if u.must_change else "active"
        extra = f" ({u.operator or u.provider})" if u.operator or u.provider else ""
        print(f"{u.username:<24} {u.role:<14} {state:<10} {u.name}{extra}")
    return 0


async def _disable(users: Any, sessions: Any, args: argparse.Namespace) -> int:
    from gateway import useradmin

    await useradmin.disable(users, sessions, args.username)
    print(f"disabled {args.username}: signed out everywhere within a minute")
    return 0


async def _enable(users: Any, sessions: Any, args: argparse.Namespace) -> int:
    from gateway import useradmin

    await useradmin.enable(users, args.username)
    print(f"enabled {args.username}")
    return 0


async def _reset(users: Any, sessions: Any, args: argparse.Namespace) -> int:
    from gateway import useradmin

    issued = await useradmin.reset(users, sessions, args.username)
    print(f"reset {issued.user.username}: every session ended, lock-out lifted")
    _print_once(issued.password)
    return 0


def _read_password() -> str:
    if sys.stdin.isatty():
        return getpass.getpass("password: ")
    return sys.stdin.readline().rstrip("\n")


def _print_once(password: str) -> None:
    print(f"one-time password: {password}")
    print("  (shown only now; it must be changed at the first sign-in)")

