"""Commands (request/reply, answered by one instance) and scatter-gather queries:
strict decoding, clear error replies, and commands made idempotent by their id."""

from __future__ import annotations

import asyncio
import logging
import random
import time
from contextlib import AbstractContextManager
from typing import Any

import msgspec

from contracts import MAX_MESSAGE_BYTES, ErrorReply, Reply, ServiceSection
from im_runtime import failpoints, processed, tracing
from im_runtime.errors import ConcurrencyConflict, DomainError
from im_runtime.metrics import Metrics
from im_runtime.outbox import OutboxRelay
from im_runtime.spec import Answers, Handles

log = logging.getLogger("im.endpoints")
_ENC = msgspec.json.Encoder()
MAX_CONFLICT_RETRIES = 8


def error(code: Any, message: str, **details: str) -> bytes:
    return _ENC.encode(ErrorReply(code=code, message=message, details=details))


def _decode(decoder: msgspec.json.Decoder[Any], body: bytes) -> Any:
    if len(body) > MAX_MESSAGE_BYTES:
        raise ValueError(f"message of {len(body)} bytes exceeds the limit of {MAX_MESSAGE_BYTES}")
    return decoder.decode(body)


def server_span(endpoint: Any, headers: Any, subject: str) -> AbstractContextManager[Any]:
    """The span of answering one command or query: the caller's trace goes on here; no
    or a malformed traceparent starts a new one."""
    return tracing.span(endpoint.span_name, tracing.SpanKind.SERVER,
                        parent=tracing.extract(headers),
                        attributes={"im.service": endpoint.service,
                                    "messaging.destination.name": subject})


class CommandEndpoint:
    def __init__(self, *, service: str, route: Handles, store: Any,
                 relay: OutboxRelay | None, metrics: Metrics) -> None:
        self.service, self.route, self.store = service, route, store
        self.relay, self.metrics = relay, metrics
        self.decoder = msgspec.json.Decoder(route.command)
        self.span_name = f"command {service}.{route.name}"

    async def __call__(self, body: bytes, command: Any = None) -> bytes:
        """The reply to `body` (`command`: the body already decoded)."""
        started = time.perf_counter()
        status = "ok"
        try:
            reply = await self._handle(command if command is not None
                                       else _decode(self.decoder, body))
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            status, reply = "bad_request", error("bad_request", f"invalid {self.route.name}: {exc}")
        except DomainError as exc:
            status, reply = exc.code, _ENC.encode(exc.reply())
        except Exception:
            log.exception("command failed", extra={"command": self.route.name})
            status, reply = "internal", error("internal", f"{self.service} failed to handle "
                                                          f"{self.route.name}; see its logs")
        self.metrics.commands.labels(self.service, self.route.name, status).inc()
        tracing.outcome(status)
        self.metrics.latency.labels(self.service, "command").observe(time.perf_counter() - started)
        return reply

    def decoded(self, body: bytes) -> Any:
        """The command, or None when it cannot be read (answering then says why)."""
        try:
            return _decode(self.decoder, body)
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError):
            return None

    async def _handle(self, command: Any) -> bytes:
        key, digest = processed.command_key(self.route.name, command), processed.request_digest(
            command)
        for attempt in range(MAX_CONFLICT_RETRIES):
            # A command id is new as a rule: the first attempt does not look it up, since
            # the unique processed id stops a repeat at the commit (a conflict: the next
            # attempt looks up), and a repeat the handler refuses is looked up then.
            if attempt:  # instances racing for one document: back off, jittered
                await asyncio.sleep(random.uniform(0, 0.005 * 2 ** attempt))
                if (stored := await self._answered(key, digest)) is not None:
                    return stored
            uow = self.store.unit_of_work(self.service)
            try:
                reply: Reply = await self.route.handler(command, uow)
            except Exception:
                if not attempt and (stored := await self._answered(key, digest)):
                    return stored
                raise
            encoded = _ENC.encode(reply)
            uow.mark_processed(key, processed.pack(digest, encoded))
            try:
                entries = await uow.commit()
            except ConcurrencyConflict:
                self.metrics.conflicts.labels(self.service, "command").inc()
                log.info("command conflicted, retrying",
                         extra={"command": self.route.name, "attempt": attempt})
                continue
            failpoints.hit("exit_after_commit")
            if entries and self.relay is not None:
                self.relay.notify()
            return encoded
        raise DomainError("the data changed under this command too often; try again",
                          code="conflict")

    async def _answered(self, key: str, digest: bytes) -> bytes | None:
        """The reply given when this caller sent this command before (None: never handled,
        or its reply was forgotten on an erasure); a conflict when the id was used for
        another request (im_runtime.processed)."""
        stored = (await self.store.processed_ids([key])).get(key)
        if stored is None:
            return None
        was, reply = processed.unpack(bytes(stored))
        if was != digest:
            raise DomainError("this command_id was already used for another request; "
                              "send a new command_id", code="conflict")
        return reply


class ReadEndpoint(CommandEndpoint):
    """A read-only command (`Handles(..., read=True)`): answered from the service's mirror,
    concurrently; nothing is stored, so a repeat is simply answered again."""

    def __init__(self, *, service: str, route: Handles, store: Any, metrics: Metrics) -> None:
        super().__init__(service=service, route=route, store=store, relay=None,
                         metrics=metrics)

    async def _handle(self, command: Any) -> bytes:
        return _ENC.encode(await self.route.handler(command, self.store.reader(self.service)))


class QueryEndpoint:
    def __init__(self, *, service: str, version: str, route: Answers, store: Any) -> None:
        self.service, self.version, self.route, self.store = service, version, route, store
        self.decoder = msgspec.json.Decoder(route.query)
        self.span_name = f"query {route.name}"

    async def __call__(self, body: bytes) -> bytes:
        try:
            query = _decode(self.decoder, body)
            section = await self.route.handler(query, self.store.reader(self.service))
        except (msgspec.DecodeError, msgspec.ValidationError, ValueError) as exc:
            return error("bad_request", f"invalid {self.route.name}: {exc}", service=self.service)
        except DomainError as exc:
            return _ENC.encode(ErrorReply(code=exc.code, message=exc.message,
                                          details={**exc.details, "service": self.service}))
        except Exception:
            log.exception("query failed", extra={"query": self.route.name})
            tracing.outcome("internal")
            return error("internal", f"{self.service} failed to answer {self.route.name}",
                         service=self.service)
        return _ENC.encode(ServiceSection(service=self.service, version=self.version,
                                          section=dict(section or {})))
