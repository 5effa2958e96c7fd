"""Dead letters: a message the service gave up on goes to `im.dlq.<service>` with the
reason and the original body, then is terminated so it is not redelivered."""

from __future__ import annotations

import base64
import logging
from collections.abc import Mapping

import msgspec
from nats.aio.msg import Msg
from nats.js import JetStreamContext

from contracts import subjects, utcnow
from contracts.platform import DeadLetter
from im_runtime.metrics import Metrics

log = logging.getLogger("im.dlq")
_ENC = msgspec.json.Encoder()


def letter(service: str, msg: Msg, reason: str, redact: bool = False) -> DeadLetter:
    meta = msg.metadata if msg.reply and msg.reply.startswith("$JS.ACK.") else None
    return stored_letter(service, msg.subject, msg.data, msg.headers, reason,
                         stream=meta.stream if meta else None,
                         seq=meta.sequence.stream if meta else None,
                         deliveries=meta.num_delivered if meta else 1, redact=redact)


def stored_letter(service: str, subject: str, data: bytes, headers: Mapping[str, str] | None,
                  reason: str, *, stream: str | None, seq: int | None, deliveries: int,
                  redact: bool = False) -> DeadLetter:
    if redact:  # the body may hold free text that must not leave the service
        body, encoding = f"<{len(data)} bytes withheld>", "redacted"
    else:
        try:
            body, encoding = data.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            body, encoding = base64.b64encode(data).decode(), "base64"
    return DeadLetter(
        service=service,
        reason=reason[:2000],
        subject=subject,
        stream=stream,
        stream_seq=seq,
        deliveries=deliveries,
        headers=dict(headers or {}),
        body=body,
        body_encoding=encoding,
        failed_at=utcnow(),
    )


class DeadLetters:
    def __init__(self, js: JetStreamContext, service: str, metrics: Metrics,
                 redact: bool = False) -> None:
        self._js, self._service, self._metrics = js, service, metrics
        self._redact = redact

    async def send(self, msg: Msg, reason: str, kind: str) -> None:
        await self.publish(letter(self._service, msg, reason, self._redact), kind)
        if msg.reply and msg.reply.startswith("$JS.ACK."):
            await msg.term()

    async def publish(self, dead: DeadLetter, kind: str) -> None:
        """One dead letter per stored message, whoever sends it (the consumer, or the
        listener for messages JetStream stopped delivering: im_runtime.undelivered)."""
        msg_id = f"dlq-{dead.stream}-{dead.stream_seq}" if dead.stream else None
        subject = subjects.dead_letter(self._service, subjects.resident_of(dead.subject))
        await self._js.publish(subject, _ENC.encode(dead),
                               headers={"Nats-Msg-Id": msg_id} if msg_id else None)
        self._metrics.dead_lettered.labels(self._service, kind).inc()
        log.warning("dead-lettered", extra={"service": self._service,
                                            "subject": subjects.template(dead.subject),
                                            "reason": dead.reason, "kind": kind})

    @property
    def redact(self) -> bool:
        return self._redact
