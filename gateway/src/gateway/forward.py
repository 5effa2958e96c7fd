"""Commands over HTTP: forwarded as request/reply to the owning service, with the actor
of the verified token. The service validates the body; its error reply comes back as
an ApiError, so errors.py maps everything to HTTP in one place."""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any

import msgspec
from nats.errors import NoRespondersError
from nats.errors import TimeoutError as NatsTimeout

from contracts import Actor, ErrorReply
from contracts import subjects as subj
from gateway.directory import Directory
from gateway.errors import ApiError, unavailable
from gateway.lifespan import Bus
from im_runtime import actors, tracing

_ENC = msgspec.json.Encoder()
_ERR = msgspec.json.Decoder(ErrorReply)


class Forwarder:
    def __init__(self, bus: Bus, directory: Directory, timeout: float,
                 secret: bytes = b"") -> None:
        self.bus, self.directory, self.timeout = bus, directory, timeout
        # Signs each command's actor for its service (im_runtime.actors).
        self.secret = secret
        # Refuses (410) a command about an erased resident; set once erasures are known.
        self.guard: Callable[[str], None] | None = None

    async def call(self, service: str, command: str, body: dict[str, Any],
                   actor: Actor) -> dict[str, Any]:
        try:
            subject = subj.command(service, command)
        except subj.SubjectError as exc:
            raise ApiError("bad_request", str(exc)) from None
        rid = body.get("resident_id")
        if self.guard is not None and isinstance(rid, str) and service != "privacy":
            self.guard(rid)
        if not self.bus.connected:
            raise ApiError("unavailable", self.bus.detail, service="bus")
        # Whatever actor the caller put in the body is replaced by the verified one.
        payload = _ENC.encode({**body, "actor": actor})
        with tracing.span(f"command {service}.{command}", tracing.SpanKind.CLIENT,
                          attributes={"messaging.destination.name": subject}):
            headers = {**tracing.inject(),
                       **actors.signed_headers(self.secret, service, subject, payload)}
            try:
                msg = await self.bus.nc.request(subject, payload, timeout=self.timeout,
                                                headers=headers)
            except NoRespondersError:
                raise self._nobody(service, command) from None
            except (NatsTimeout, TimeoutError):
                raise unavailable(service, f"did not answer {command} within "
                                           f"{int(self.timeout * 1000)} ms") from None
        reply: dict[str, Any] = msgspec.json.decode(msg.data)
        if reply.get("status") == "error":
            raise ApiError.from_reply(_ERR.decode(msg.data), service=service)
        reply.pop("status", None)  # the reply's tag, not part of the answer
        return reply

    def _nobody(self, service: str, command: str) -> ApiError:
        known = self.directory.commands_of(service)
        if known is not None and command not in known:
            return ApiError("not_found", f"service {service} has no command {command}",
                            service=service, command=command)
        if known is None and not self.directory.knows(service) and service not in installed():
            return ApiError("not_found", f"there is no service {service}", service=service)
        return unavailable(service, "is not running")


def installed() -> set[str]:
    """The services installed beside the gateway (their entry points, not loaded)."""
    return {ep.name for ep in entry_points(group="im.services")}
