"""`im feedback`: an operator reads the feedback on its referrals, from its durable
consumer `fb_<id>` on IM_FEEDBACK (the only way its NATS user may read it), one CloudEvent
per line on stdout, each acknowledged once printed: the next call gives what came since.
The function `fetch` is the small Python reader for operators' own scripts."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

from contracts import subjects as subj


async def fetch(nats_url: str, operator: str, limit: int = 100, wait: float = 2.0,
                **options: Any) -> list[bytes]:
    """Up to `limit` feedback bodies, acknowledged; waits up to `wait` s for the first."""
    import nats
    from nats.errors import TimeoutError as NatsTimeout

    from im_cli.natsauth import feedback_consumer

    nc = await nats.connect(nats_url, **options)
    out: list[bytes] = []
    try:
        # Bound by name: the operator may not ask for the consumer's info or make one.
        sub = await nc.jetstream().pull_subscribe_bind(
            durable=feedback_consumer(operator), stream=subj.FEEDBACK_STREAM)
        timeout = wait
        while len(out) < limit:
            try:
                msgs = await sub.fetch(min(limit - len(out), 256), timeout=timeout)
            except (NatsTimeout, TimeoutError):
                break
            for msg in msgs:
                out.append(msg.data)
                await msg.ack_sync()
            timeout = 0.5  # what is pending comes at once; stop soon after it
    finally:
        await nc.drain()
    return out


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
