"""JetStream streams, declared idempotently by whichever side starts first."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
from typing import Any

from nats.js import JetStreamContext
from nats.js.api import DiscardPolicy, RetentionPolicy, StorageType, StreamConfig
from nats.js.errors import NotFoundError

from contracts import subjects

log = logging.getLogger("im.streams")


# Every stream is bounded, so that no publisher (a service gone wrong, an operator's
# flood) fills the disk: a message at most the server's default payload (events are far
# smaller: consumers take 256 KiB), and a total per stream. When a stream is full, new
# messages are refused (the publisher gets an error; a service's events wait in its
# outbox) and nothing stored is dropped: `discard: new`, never the default `old`.
# How long messages are kept (max_age) is the retention rules' business, not set here.
MAX_MSG_SIZE = 1024 ** 2
EVENT_MAX_BYTES = 4 * 1024 ** 3
DLQ_MAX_BYTES = 1024 ** 3
FEEDBACK_MAX_BYTES = 1024 ** 3
LIMITS = ("max_msg_size", "max_bytes", "discard")


def _bounded(max_bytes: int, max_msg_size: int = MAX_MSG_SIZE) -> dict[str, Any]:
    return {"max_msg_size": max_msg_size, "max_bytes": max_bytes,
            "discard": DiscardPolicy.NEW}


def event_stream(service: str, replicas: int, duplicate_window: float) -> StreamConfig:
    return StreamConfig(
        name=subjects.event_stream(service),
        subjects=[subjects.events_of(service)],
        storage=StorageType.FILE,
        num_replicas=replicas,
        duplicate_window=duplicate_window,
        **_bounded(EVENT_MAX_BYTES),
    )


def dlq_stream(replicas: int) -> StreamConfig:
    return StreamConfig(name=subjects.DLQ_STREAM, subjects=[subjects.DLQ_SUBJECTS],
                        storage=StorageType.FILE, num_replicas=replicas,
                        **_bounded(DLQ_MAX_BYTES))


# Operators' events: each one small (counselling takes at most 64 KiB), the stream bounded
# so that one operator's flood cannot fill the disk; when full, new messages are refused
# (the publisher gets an error) and nothing stored is dropped.
OPS_MAX_MSG_SIZE = 64 * 1024
OPS_MAX_BYTES = 1024 ** 3


def ops_stream(replicas: int, duplicate_window: float) -> StreamConfig:
    return StreamConfig(name=subjects.OPS_STREAM, subjects=[subjects.OPS_SUBJECTS],
                        storage=StorageType.FILE, num_replicas=replicas,
                        duplicate_window=duplicate_window,
                        **_bounded(OPS_MAX_BYTES, OPS_MAX_MSG_SIZE))


def feedback_stream(replicas: int, duplicate_window: float) -> StreamConfig:
    return StreamConfig(name=subjects.FEEDBACK_STREAM, subjects=[subjects.FEEDBACK_SUBJECTS],
                        storage=StorageType.FILE, num_replicas=replicas,
                        duplicate_window=duplicate_window, **_bounded(FEEDBACK_MAX_BYTES))


# JetStream's advisories of messages it stopped delivering (im_runtime.undelivered), kept
# until an instance of the consumer's service has dead-lettered the message: the advisory
# is sent once, while some instance fetches, and an instance that dies before the dead
# letter is out would otherwise lose it. A work queue (an acknowledged advisory is gone),
# small; advisories nobody takes (a consumer without a service) expire.
UNDELIVERED_STREAM = "IM_UNDELIVERED"
MAX_DELIVERIES = "$JS.EVENT.ADVISORY.CONSUMER.MAX_DELIVERIES"
UNDELIVERED_MAX_BYTES = 64 * 1024 ** 2
UNDELIVERED_MAX_AGE = 30 * 24 * 3600.0


def undelivered_stream(replicas: int) -> StreamConfig:
    return StreamConfig(name=UNDELIVERED_STREAM, subjects=[f"{MAX_DELIVERIES}.>"],
                        retention=RetentionPolicy.WORK_QUEUE, storage=StorageType.FILE,
                        num_replicas=replicas, max_age=UNDELIVERED_MAX_AGE,
                        **_bounded(UNDELIVERED_MAX_BYTES, 64 * 1024))


def for_source(source: str, replicas: int, duplicate_window: float) -> StreamConfig:
    """The stream events of `source` live in (operators' own stream for `operator`)."""
    if source == subjects.OPERATOR:
        return ops_stream(replicas, duplicate_window)
    if source == subjects.FEEDBACK:
        return feedback_stream(replicas, duplicate_window)
    return event_stream(source, replicas, duplicate_window)


# A new stream starts at sequence 2, so that its head can always be compacted without
# losing a message: an erasure then drops the stream's state file (which lists every
# subject, resident ids included) at once instead of within nats-server's 2-minute flush
# (docs/privacy.md). Only on creation: raising `first_seq` on an existing stream makes
# nats-server purge it up to that sequence at its next start.
FIRST_SEQ = 2


async def ensure(js: JetStreamContext, config: StreamConfig) -> None:
    assert config.name
    try:
        await js.stream_info(config.name)
    except NotFoundError:
        await js.add_stream(dataclasses.replace(config, first_seq=config.first_seq or FIRST_SEQ))


async def bound(js: JetStreamContext, wanted: StreamConfig) -> bool:
    """A stream created before it had its limits gets them (provisioning, as admin);
    nothing else of its configuration changes. True if it was updated."""
    assert wanted.name
    info = await js.stream_info(wanted.name)
    have, limits = info.config, {k: getattr(wanted, k) for k in LIMITS}
    # A max_bytes below what the stream holds would, with discard old, drop its oldest
    # messages at once (nats-server 2.15), and with discard new refuse every new one until
    # it shrank: a stream already holding more keeps its size (and says so).
    if info.state.bytes >= (wanted.max_bytes or 0) > 0:
        log.warning("stream %s holds %d bytes, more than its limit of %d: its max_bytes is "
                    "left as it is (raise the limit, or let retention shrink it)",
                    wanted.name, info.state.bytes, wanted.max_bytes)
        limits["max_bytes"] = have.max_bytes
    if all(_same(getattr(have, k), v) for k, v in limits.items()):
        return False
    await js.update_stream(dataclasses.replace(have, **limits))
    log.info("stream %s brought to its limits", wanted.name)
    return True


def _same(a: Any, b: Any) -> bool:
    return getattr(a, "value", a) == getattr(b, "value", b)


async def found(js: JetStreamContext, name: str, every: float = 1.0) -> None:
    """Wait until another's stream exists (a service with a NATS user may create only
    its own; the admin's provisioning or the owner creates the rest)."""
    said = False
    while True:
        try:
            await js.stream_info(name)
            return
        except NotFoundError:
            if not said:
                log.warning("waiting for stream %s (created by its owner or by "
                            "`python -m im_cli.natsauth provision`)", name)
                said = True
            await asyncio.sleep(every)


async def names(nc: Any) -> list[str]:
    """Every stream's name, page by page (nats-py's JetStream manager has no call for
    the names alone)."""
    out: list[str] = []
    while True:
        reply = await nc.request("$JS.API.STREAM.NAMES",
                                 json.dumps({"offset": len(out)}).encode(), timeout=5)
        body = json.loads(reply.data)
        page = body.get("streams") or []
        out += page
        if not page or len(out) >= body.get("total", 0):
            return out
