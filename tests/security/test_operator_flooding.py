"""Attack: an operator floods the bus. Its messages of 1 MB were taken (the server's
default payload), stored without bound in the operators' stream that every operator
shares and counselling reads, and it could open connections without end. Now its
account takes at most 64 KiB a message and a bounded number of connections, and the
operators' stream refuses messages over 64 KiB and, once full, new ones (keeping what
it holds)."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import nats
import pytest

from contracts import subjects as subj
from im_cli import natsauth
from im_runtime import streams
from support.attack import Stack


async def stored(admin: Any, subject: str) -> int:
    info = await admin.js.stream_info(subj.OPS_STREAM, subjects_filter=subject)
    return sum((info.state.subjects or {}).values())


@pytest.mark.flow
async def test_an_operator_cannot_flood_the_operators_stream_with_large_messages(
        stack: Stack) -> None:
    subject = "im.ops.op-a.case_note_recorded.r-flood"
    user = natsauth.operator_user("op-a")
    async with stack.as_user(natsauth.ADMIN) as admin:
        for size in (900 * 1024, 70 * 1024):
            # The server cuts the connection (`maximum payload exceeded`); nothing stored.
            async with stack.as_user(user) as op:
                with pytest.raises((nats.errors.TimeoutError, nats.errors.ConnectionClosedError,
                                    nats.errors.UnexpectedEOF)):
                    await op.js.publish(subject, b"x" * size, timeout=2)
                assert not op.nc.is_connected
        assert "maximum payload exceeded: 71680 vs 65536" in stack.nats.log_path.read_text()
        async with stack.as_user(user) as op:
            ack = await op.js.publish(subject, b"x" * 1024, timeout=2)  # a normal event
            assert ack.stream == subj.OPS_STREAM
        assert await stored(admin, subject) == 1
        # The stream's own bound, whoever publishes (the admin may send 1 MB).
        with pytest.raises(nats.js.errors.APIError, match="message size exceeds maximum"):
            await admin.js.publish(subject, b"x" * (65 * 1024), timeout=2)
        config = (await admin.js.stream_info(subj.OPS_STREAM)).config
        discard = getattr(config.discard, "value", config.discard)
        assert (config.max_msg_size, config.max_bytes, discard) == (
            streams.OPS_MAX_MSG_SIZE, streams.OPS_MAX_BYTES, "new")


@pytest.mark.flow
async def test_an_operator_cannot_open_connections_without_end(stack: Stack) -> None:
    conns: list[Any] = []
    try:
        for _ in range(natsauth.OPERATOR_LIMITS["max_connections"]):
            conns.append(await stack.connect(natsauth.operator_user("op-b")))
        with pytest.raises(Exception, match="maximum account active connections exceeded"):
            await asyncio.wait_for(stack.connect(natsauth.operator_user("op-b")), 5)
        other = await stack.connect(natsauth.operator_user("op-a"))  # not op-b's share
        conns.append(other)
    finally:
        for c in conns:
            with contextlib.suppress(Exception):
                await c.nc.close()
