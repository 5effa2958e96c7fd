"""Commands (request/reply, answered by one instance) and scatter-gather queries:
strict decoding, clear error replies, and commands made idempotent by their id."""

from __future__ import annotations

import logging
import time
from typing import Any

import msgspec

from contracts import ErrorReply, Reply, ServiceSection
from im_runtime import failpoints, lane, processed, tracing
from im_runtime.errors import DomainError
from im_runtime.metrics import Metrics
from im_runtime.outbox import OutboxRelay
from im_runtime.pipeline.decode import DECODE_ERRORS, decode
from im_runtime.pipeline.retry import TooManyConflicts, retry_on_conflict
from im_runtime.spec import Answers, Handles
from im_runtime.storage import Store

log = logging.getLogger("im.endpoints")
_ENC = msgspec.json.Encoder()


def error(code: Any, message: str, **details: str) -> bytes:
    return _ENC.encode(ErrorReply(code=code, message=message, details=details))


class Decoding:
    """The request type's decoder, built once; `decoded` for the transport's lanes."""

    decoder: msgspec.json.Decoder[Any]

    def decoded(self, body: bytes) -> Any:
        """The request, or None when it cannot be read (answering then says why)."""
        try:
            return decode(self.decoder, body)
        except DECODE_ERRORS:
            return None


class CommandEndpoint(Decoding):
    def __init__(self, *, service: str, route: Handles, store: Store,
                 relay: OutboxRelay | None, metrics: Metrics) -> None:
        self.service, self.route, self.store = service, route, store
        self.relay, self.metrics = relay, metrics
        self.decoder = msgspec.json.Decoder(route.command)
        self.span_name = f"command {service}.{route.name}"

    async def __call__(self, body: bytes, decoded: Any = None) -> bytes:
        """The reply to `body` (`decoded`: the body already decoded)."""
        started = time.perf_counter()
        status = "ok"
        try:
            reply = await self._handle(decoded if decoded is not None
                                       else decode(self.decoder, body))
        except DECODE_ERRORS as exc:
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

    async def _handle(self, command: Any) -> bytes:
        key, digest = processed.command_key(self.route.name, command), processed.request_digest(
            command)

        async def attempt(n: int) -> bytes:
            # A command id is new as a rule: the first attempt does not look it up, since
            # the unique processed id stops a repeat at the commit (a conflict: the next
            # attempt looks up), and a repeat the handler refuses is looked up then.
            if n and (stored := await self._answered(key, digest)) is not None:
                return stored
            uow = self.store.unit_of_work(self.service)
            try:
                reply: Reply = await self.route.handler(command, uow)
            except Exception:
                if not n and (stored := await self._answered(key, digest)):
                    return stored
                raise
            if uow.emitted and self.relay is not None and self.relay.full:
                # No room for its events: refused before anything is committed (a
                # repeat of a command committed before is told it waits).
                if stored := await self._answered(key, digest):
                    return stored
                raise _refused(self.relay.full)
            encoded = _ENC.encode(reply)
            uow.mark_processed(key, processed.pack(digest, encoded))
            entries = await uow.commit()
            failpoints.hit("exit_after_commit")
            lane.committed()  # the next command of the lane need not wait for our acks
            if entries and self.relay is not None:
                if why := await self.relay.published([e.id for e in entries]):
                    raise _accepted(why)
            return encoded

        def conflicted() -> None:
            self.metrics.conflicts.labels(self.service, "command").inc()

        try:
            return await retry_on_conflict(attempt, what=f"command {self.route.name}",
                                           on_conflict=conflicted)
        except TooManyConflicts:
            raise DomainError("the data changed under this command too often; try again",
                              code="conflict") from None

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
        if self.relay is not None and self.relay.full:  # its events may still wait
            raise _accepted(self.relay.full)
        return reply


def _refused(why: str) -> DomainError:
    return DomainError(f"{why}: nothing was changed; try again once the event log has "
                       "room", code="unavailable")


def _accepted(why: str) -> DomainError:
    """A command committed whose events have not reached their stream: not done yet,
    and nothing to send again (its events go out by themselves)."""
    return DomainError(f"the change is stored, but {why}: its events wait in the outbox "
                       "and go out by themselves once they can; sending this command "
                       "again with the same command_id tells when", code="accepted")


class ReadEndpoint(CommandEndpoint):
    """A read-only command (`Handles(..., read=True)`): answered from the service's mirror,
    concurrently; nothing is stored, so a repeat is simply answered again."""

    def __init__(self, *, service: str, route: Handles, store: Store, metrics: Metrics) -> None:
        super().__init__(service=service, route=route, store=store, relay=None,
                         metrics=metrics)

    async def _handle(self, command: Any) -> bytes:
        return _ENC.encode(await self.route.handler(command, self.store.reader(self.service)))


class QueryEndpoint(Decoding):
    def __init__(self, *, service: str, version: str, route: Answers, store: Store) -> None:
        self.service, self.version, self.route, self.store = service, version, route, store
        self.decoder = msgspec.json.Decoder(route.query)
        self.span_name = f"query {route.name}"

    async def __call__(self, body: bytes, decoded: Any = None) -> bytes:
        """The service's section for `body` (`decoded`: the body already decoded)."""
        try:
            query = decode(self.decoder, body) if decoded is None else decoded
            section = await self.route.handler(query, self.store.reader(self.service))
        except DECODE_ERRORS as exc:
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
