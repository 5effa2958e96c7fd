"""`im feedback`: an operator reads the feedback on its referrals, from its durable
consumer `fb_<id>` on IM_FEEDBACK (the only way its NATS user may read it), one CloudEvent
per line on stdout, each acknowledged once printed: the next call gives what came since.
The reading is the slim operator package's (`im_operator.fetch`, clients/python)."""

from __future__ import annotations

import argparse
import asyncio
import sys

from contracts import subjects as subj
from im_operator import fetch

__all__ = ["add_parser", "fetch", "run"]


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("feedback", help="read (and acknowledge) an operator's feedback",
                       description="Print the feedback on an operator's referrals (one "
                                   "CloudEvent per line) from its durable consumer fb_<id>, "
                                   "acknowledging each: as the operator's NATS user "
                                   "(IM_NATS_URL, IM_NATS_USER, IM_NATS_PASSWORD).")
    p.add_argument("--operator", required=True, help="the operator id")
    p.add_argument("--max", type=int, default=100, help="at most this many (default 100)")
    p.add_argument("--wait", type=float, default=2.0,
                   help="seconds to wait for the first one (default 2)")
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from im_cli.commands import CliError, _settings

    try:
        operator = subj.token(args.operator, "operator id")
    except subj.SubjectError as exc:
        raise CliError(str(exc)) from None
    if args.max < 1:
        raise CliError(f"--max must be at least 1, got {args.max}")
    settings = _settings()
    try:
        bodies = asyncio.run(fetch(settings.nats_url, operator, args.max, args.wait,
                                   **settings.nats_options()))
    except Exception as exc:  # a refusal by the server, a wrong password, no route
        raise CliError(f"could not read the feedback of {operator}: "
                       f"{exc or type(exc).__name__}") from exc
    for body in bodies:
        sys.stdout.write(body.decode() + "\n")
    print(f"{len(bodies)} feedback event(s) of {operator}", file=sys.stderr)
    return 0
