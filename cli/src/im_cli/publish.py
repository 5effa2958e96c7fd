"""`im publish`: an operator's event, checked against the contract, onto its im.ops subject.

Reads JSON from a file or stdin: either a whole CloudEvent (checked as it is) or only its
`data` (wrapped in a CloudEvent with `source` = the operator). Decoding is strict, so an
event the platform would dead-letter as malformed is refused here, before sending. The
functions `prepare` and `send` are the small Python client for operators' own scripts."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path
from typing import Any

import msgspec

from contracts import CloudEvent, event_parts, wrap
from contracts import subjects as subj
from contracts.operator import OperatorEvent

# Counselling's declared limit for operators' events (NATS itself would take up to 1 MB).
MAX_BYTES = 64 * 1024
_ENVELOPE = msgspec.json.Decoder(CloudEvent[OperatorEvent])  # type: ignore[valid-type]
_DATA = msgspec.json.Decoder(OperatorEvent)
_ENC = msgspec.json.Encoder()


class PublishError(ValueError):
    """The event does not fit the contract or the subject: nothing was sent."""


class Prepared(msgspec.Struct, frozen=True):
    subject: str
    id: str
    body: bytes


def prepare(raw: bytes, operator: str | None = None, max_bytes: int = MAX_BYTES) -> Prepared:
    """Check (or wrap) one operator event; returns its subject, id and exact body."""
    event: CloudEvent[Any]
    try:
        doc = msgspec.json.decode(raw)
        if not isinstance(doc, dict):
            raise PublishError("expected a JSON object (a CloudEvent or its data)")
        if "specversion" in doc:
            event = _ENVELOPE.decode(raw)
            if operator is not None and event.source != operator:
                raise PublishError(f"the event's source is {event.source!r}, not operator "
                                   f"{operator!r}")
        else:
            if operator is None:
                raise PublishError("bare event data needs --operator (the CloudEvent source)")
            event = wrap(_DATA.decode(raw), source=operator)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise PublishError(f"not a valid operator event: {exc}") from exc
    if event.type != event.data.__struct_config__.tag:
        raise PublishError(f"envelope type {event.type!r} does not match data type "
                           f"{event.data.__struct_config__.tag!r}")
    if event.subject != event.data.resident_key():
        raise PublishError(f"CloudEvent subject {event.subject!r} must be the resident id "
                           f"{event.data.resident_key()!r}")
    body = raw.strip() if "specversion" in doc else _ENC.encode(event)
    if len(body) > max_bytes:
        raise PublishError(f"event of {len(body)} bytes exceeds the limit of {max_bytes}")
    _, name, _ = event_parts(type(event.data))
    try:
        subject = subj.operator_event(event.source, name, event.data.resident_key())
    except subj.SubjectError as exc:
        raise PublishError(str(exc)) from exc
    return Prepared(subject, event.id, body)


async def send(nats_url: str, prepared: Prepared, **options: Any) -> int:
    """Publish to JetStream with Nats-Msg-Id = the event id; returns the stream sequence."""
    import nats

    from im_runtime.connection import servers

    nc = await nats.connect(servers(nats_url), **options)  # a cluster: comma-separated
    try:
        ack = await nc.jetstream().publish(prepared.subject, prepared.body,
                                           headers={"Nats-Msg-Id": prepared.id})
        return int(ack.seq)
    finally:
        await nc.drain()


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
