"""Reading an operator's feedback from its durable consumer `fb_<id>` on IM_FEEDBACK, the
only way its NATS user may read it; each message is acknowledged once read, so the next
call gives what came since."""

from __future__ import annotations

from typing import Any

from contracts import subjects as subj
from im_operator.servers import servers


async def fetch(nats_url: str, operator: str, limit: int = 100, wait: float = 2.0,
                **options: Any) -> list[bytes]:
    """Up to `limit` feedback bodies, acknowledged; waits up to `wait` s for the first.
    `options` go to `nats.connect` (user, password, inbox_prefix `_INBOX_<user>`)."""
    import nats
    from nats.errors import TimeoutError as NatsTimeout

    nc = await nats.connect(servers(nats_url), **options)
    out: list[bytes] = []
    sub = None
    try:
        # Bound by name: the operator may not ask for the consumer's info or make one.
        sub = await nc.jetstream().pull_subscribe_bind(
            durable=subj.feedback_consumer(operator), stream=subj.FEEDBACK_STREAM)
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
        # Every ack was awaited: nothing is left to drain on the pull subscription, and
        # nats-py 2.16 waits its drain_timeout (30 s) on one whose fetch timed out.
        if sub is not None:
            await sub.unsubscribe()
        await nc.drain()
    return out
