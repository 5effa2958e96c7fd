"""`im token`: print a bearer token for the gateway, signed with the gateway's key
(IM_GATEWAY_KEY, else IM_GATEWAY_KEY_FILE, else var/gateway.key, which `im up` creates)."""

from __future__ import annotations

import argparse
import getpass
import os
from datetime import timedelta
from pathlib import Path

from im_cli.commands import CliError

ROLES = ("city_admin", "social_worker", "operator", "provider", "auditor")


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("token", help="print a bearer token for the gateway API",
                       description="Mint a token signed with the gateway's key.")
    p.add_argument("--role", required=True, choices=ROLES,
                   help="the role the token carries (what the API lets it do)")
    p.add_argument("--sites", default="", metavar="A,B",
                   help="sites a social worker is assigned to (comma-separated)")
    p.add_argument("--operator", default=None, help="the operator an operator token acts for")
    p.add_argument("--provider", default=None, help="the provider a provider token acts for")
    p.add_argument("--subject", default=None, help="who the token is for (default: you)")
    p.add_argument("--ttl", type=float, default=8.0, metavar="HOURS",
                   help="hours until the token expires (default 8)")
    p.add_argument("--key-file", type=Path, default=None,
                   help="the signing key file (default: IM_GATEWAY_KEY_FILE or var/gateway.key)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from gateway.auth import Tokens
    from gateway.keys import resolve_key
    from im_runtime.settings import SettingsError

    if args.role == "operator" and not args.operator:
        raise CliError("--role operator needs --operator ID")
    if args.role == "provider" and not args.provider:
        raise CliError("--role provider needs --provider ID")
    if not 0 < args.ttl <= 24 * 366:
        raise CliError(f"--ttl must be between 0 and {24 * 366} hours, got {args.ttl}")
    env = dict(os.environ)
    if args.key_file is not None:
        env.pop("IM_GATEWAY_KEY", None)
        env["IM_GATEWAY_KEY_FILE"] = str(args.key_file)
    try:
        key = resolve_key(env)
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    sites = tuple(s.strip() for s in args.sites.split(",") if s.strip())
    print(Tokens(key).mint(role=args.role, subject=args.subject or _whoami(args.role),
                           sites=sites, operator=args.operator, provider=args.provider,
                           ttl=timedelta(hours=args.ttl)))
    return 0


def _whoami(role: str) -> str:
    try:
        return f"{getpass.getuser()}:{role}"
    except Exception:
        return f"cli:{role}"
