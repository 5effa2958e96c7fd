"""An emitted event as the outbox stores it: the subject it goes out on and its bytes
(the type once, in the envelope: `contracts.codec`)."""

from __future__ import annotations

from typing import Any

import msgspec

from contracts import CloudEvent, event_parts
from contracts import subjects as subj
from contracts.codec import encode_event


class OutboxEntry(msgspec.Struct, frozen=True):
    id: str
    subject: str
    body: bytes
    headers: dict[str, str] = {}  # the emitting handler's trace context (traceparent)


def outbox_entry(event: CloudEvent[Any], headers: dict[str, str] | None = None) -> OutboxEntry:
    service, name, _ = event_parts(type(event.data))
    if service == subj.FEEDBACK:  # to one operator's own subjects
        subject = subj.feedback(event.data.operator_id, name, event.subject)
    else:
        subject = subj.event(service, name, event.subject)
    return OutboxEntry(event.id, subject, encode_event(event), headers or {})
