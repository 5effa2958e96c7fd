"""An operator's event, checked against the contract, onto its im.ops subject.

`prepare` takes either a whole CloudEvent (checked as it is; its data may leave `type`
out, the envelope names the event) or only its `data` (then with its `type`, wrapped in a
CloudEvent with `source` = the operator). Decoding is strict and the same as the
platform's (`contracts.codec`), so an event the platform would dead-letter as malformed
is refused here, before sending; `send` publishes it to JetStream with `Nats-Msg-Id` =
the event id."""

from __future__ import annotations

from typing import Any, get_args

import msgspec

from contracts import CloudEvent, event_parts, wrap
from contracts import subjects as subj
from contracts.codec import EventDecoder, encode_event
from contracts.operator import OperatorEvent
from im_operator.servers import servers

# Counselling's declared limit for operators' events (NATS itself would take up to 1 MB).
MAX_BYTES = 64 * 1024
# As the operators' inbox reads them: the type from the envelope (the data may repeat it).
_ENVELOPE = EventDecoder(get_args(OperatorEvent))
# Bare data has no envelope: its own `type` says which event it is.
_DATA = msgspec.json.Decoder(OperatorEvent)


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
    except ValueError as exc:  # the envelope's type and the data's disagree
        raise PublishError(str(exc)) from exc
    if event.subject != event.data.resident_key():
        raise PublishError(f"CloudEvent subject {event.subject!r} must be the resident id "
                           f"{event.data.resident_key()!r}")
    # A whole CloudEvent goes out exactly as given; wrapped data with the type said once.
    body = raw.strip() if "specversion" in doc else encode_event(event)
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

    nc = await nats.connect(servers(nats_url), **options)  # a cluster: comma-separated
    try:
        ack = await nc.jetstream().publish(prepared.subject, prepared.body,
                                           headers={"Nats-Msg-Id": prepared.id})
        return int(ack.seq)
    finally:
        await nc.drain()
