"""`im privacy pending`, `im privacy approve RESIDENT --by NAME` and `im privacy reject
RESIDENT --by NAME`: the second pair of eyes on an erasure from the command line, as the
dashboard's erasures page gives it (docs/privacy.md, "Four eyes").

The command goes to the privacy service over the bus, signed with the gateway's key as
the gateway signs (whoever runs this holds the platform's secrets anyway); `--by` names
the city administrator who decides — an enabled city administrator's account in the
gateway's database — and the ledger refuses the requester's own approval."""

from __future__ import annotations

import argparse
import asyncio
import json
from typing import Any

import msgspec
import nats

from contracts import Actor, ErrorReply, new_id
from contracts import privacy as pv
from contracts import subjects as subj
from im_cli.commands import CliError
from im_runtime import actors

_REPLY = msgspec.json.Decoder(pv.ErasureStatus | ErrorReply)
_PENDING = msgspec.json.Decoder(pv.PendingErasures | ErrorReply)


def add_parsers(psub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    pen = psub.add_parser("pending", help="erasure requests awaiting a second city "
                                          "administrator's approval")
    pen.add_argument("--json", action="store_true", help="print them as JSON")
    pen.set_defaults(func=pending_command)
    for step, text in (("approve", "approve a requested erasure (four eyes): it goes out "
                                   "to every service"),
                       ("reject", "reject (or withdraw) a requested erasure; the resident "
                                  "stays")):
        p = psub.add_parser(step, help=text)
        p.add_argument("resident", help="the resident's id")
        p.add_argument("--by", required=True, metavar="USERNAME",
                       help="the city administrator deciding (not the one who asked)")
        p.set_defaults(func=decide_command, step=step)


async def send(name: str, body: msgspec.Struct, decoder: Any, timeout: float = 10.0) -> Any:
    from im_cli.demo.command import gateway_secret
    from im_cli.privacy import _connect

    payload = msgspec.json.encode(body)
    subject = subj.command(pv.SERVICE, name)
    secret = gateway_secret()
    headers = actors.signed_headers(secret, pv.SERVICE, subject, payload) if secret else None
    nc = await _connect()
    try:
        msg = await nc.request(subject, payload, timeout=timeout, headers=headers)
    except (TimeoutError, nats.errors.Error) as exc:
        raise CliError(f"the privacy service did not answer: {exc!r}") from None
    finally:
        await nc.close()
    reply = decoder.decode(msg.data)
    if isinstance(reply, ErrorReply):
        raise CliError(f"{reply.code}: {reply.message}")
    return reply


def decide_command(args: argparse.Namespace) -> int:
    try:
        subj.token(args.resident, "resident id")
        actor = Actor(subject=args.by.strip(), role="city_admin")
        if not actor.subject:
            raise ValueError("--by names the deciding city administrator")
    except (subj.SubjectError, ValueError) as exc:
        raise CliError(str(exc)) from None
    asyncio.run(city_admin(actor.subject))
    kind = pv.ApproveErasure if args.step == "approve" else pv.RejectErasure
    cmd = kind(resident_id=args.resident, actor=actor, command_id=f"cli:{new_id()}")
    status = asyncio.run(send(f"{args.step}_erasure", cmd, _REPLY))
    print(f"{args.resident}: {status.state} ({status.category}); requested by "
          f"{status.requested_by}" + (f", approved by {status.approved_by}"
                                      if status.approved_by else ""))
    return 0


async def city_admin(username: str) -> None:
    """`--by` must name an enabled city administrator's account (the gateway's database,
    IM_MONGO_URL and IM_DB_PREFIX): the ledger records the decision under that name."""
    from pymongo.errors import PyMongoError

    from gateway import accounts
    from im_runtime.settings import Settings, SettingsError

    try:
        settings = Settings.from_env()
    except SettingsError as exc:
        raise CliError(str(exc)) from None
    client, db = accounts.connect(settings.mongo_url, settings.db_prefix)
    try:
        user = await db[accounts.USERS].find_one({"_id": username})
    except PyMongoError as exc:
        raise CliError(f"--by cannot be checked: the gateway's database at "
                       f"{settings.mongo_url} does not answer ({exc})") from None
    finally:
        await client.close()
    if user is None:
        raise CliError(f"--by {username}: no such user (im users list)")
    if user.get("role") != "city_admin":
        raise CliError(f"--by {username}: not a city administrator")
    if user.get("disabled"):
        raise CliError(f"--by {username}: the account is disabled")


def pending_command(args: argparse.Namespace) -> int:
    actor = Actor(subject="im-cli", role="city_admin")
    listed = asyncio.run(send("list_pending_erasures", pv.ListPendingErasures(actor=actor),
                              _PENDING))
    if args.json:
        print(json.dumps(msgspec.to_builtins(listed.pending), indent=2, ensure_ascii=False))
        return 0
    for p in listed.pending:
        print(f"{p.resident_id}  {p.category:<19}  {p.requested_by}  "
              f"{p.requested_at.isoformat(timespec='seconds')}  {p.reason or ''}")
    if not listed.pending:
        print("no erasure awaits approval")
    return 0
