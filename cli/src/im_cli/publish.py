"""`im publish`: an operator's event, checked against the contract, onto its im.ops subject.

Reads JSON from a file or stdin: either a whole CloudEvent (checked as it is) or only its
`data` (wrapped in a CloudEvent with `source` = the operator). The checking and sending
are the slim operator package's (`im_operator`, clients/python), which operators' own
Python systems use without the platform's code; its names stay importable from here."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

from im_operator.publish import MAX_BYTES, Prepared, PublishError, prepare, send

__all__ = ["MAX_BYTES", "Prepared", "PublishError", "add_parser", "prepare", "run", "send"]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("publish", help="check an operator event and publish it",
                       description="Validate an operator event (a CloudEvent, or its data) "
                                   "against the contract and publish it on "
                                   "im.ops.<operator>.<event>[.<resident>].")
    p.add_argument("file", nargs="?", default="-", help="JSON file (default: stdin)")
    p.add_argument("--operator", help="operator id (the CloudEvent source)")
    p.add_argument("--dry-run", action="store_true", help="check and print, do not send")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from im_cli.commands import CliError, _settings

    raw = sys.stdin.buffer.read() if args.file == "-" else Path(args.file).read_bytes()
    try:
        prepared = prepare(raw, args.operator)
    except PublishError as exc:
        raise CliError(str(exc)) from exc
    if args.dry_run:
        print(f"{prepared.subject} {prepared.id} (not sent)")
        return 0
    settings = _settings()
    seq = asyncio.run(send(settings.nats_url, prepared, **settings.nats_options()))
    print(f"published {prepared.id} on {prepared.subject} (stream sequence {seq})")
    return 0
