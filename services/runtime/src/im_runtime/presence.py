"""Service presence on the bus through the NATS micro protocol ($SRV.PING/INFO/STATS):
name, version and instance id, what the instance answers in its metadata, and each
command and query subject as an endpoint with its statistics, so that
`nats micro info <service>` and `nats micro stats <service>` show them.

The runtime answers requests on its own subscriptions (queue group: the service), not on
nats-py's micro endpoints, which would subscribe a second time to the same subjects. So
the endpoints are a table kept here: each request subscription's endpoint is wrapped by
`Counted`, which times every answer and counts error replies, and `Presence` reports the
table in INFO and STATS."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import msgspec
from nats.aio.client import Client
from nats.micro.service import (
    EndpointInfo,
    EndpointStats,
    Service,
    ServiceConfig,
    ServiceInfo,
    ServiceStats,
)

from im_runtime.spec import ServiceSpec

_ERROR = b'{"status":"error"'


class _Code(msgspec.Struct):
    code: str = "internal"


_CODE = msgspec.json.Decoder(_Code)


@dataclass
class Tally:
    """One endpoint's line in INFO and STATS."""

    name: str
    subject: str
    queue_group: str
    kind: str  # command, read command or query
    requests: int = 0
    errors: int = 0
    nanoseconds: int = 0
    # An error reply's code only: its message may name a resident.
    last_error: str = ""
    metadata: dict[str, str] = field(default_factory=dict)

    def record(self, nanoseconds: int, reply: bytes) -> None:
        self.requests += 1
        self.nanoseconds += nanoseconds
        if reply.startswith(_ERROR):
            self.errors += 1
            try:
                self.last_error = _CODE.decode(reply).code
            except msgspec.DecodeError:
                self.last_error = "internal"

    def info(self) -> EndpointInfo:
        return EndpointInfo(name=self.name, subject=self.subject,
                            queue_group=self.queue_group,
                            metadata={"kind": self.kind, **self.metadata})

    def stats(self) -> EndpointStats:
        return EndpointStats(
            name=self.name, subject=self.subject, queue_group=self.queue_group,
            num_requests=self.requests, num_errors=self.errors,
            processing_time=self.nanoseconds,
            average_processing_time=self.nanoseconds // self.requests if self.requests else 0,
            last_error=self.last_error or None)


class Counted:
    """An endpoint (`__call__(body, decoded=None) -> bytes`, `decoded`, `service`,
    `span_name`) whose answers go into its `Tally`."""

    def __init__(self, endpoint: Any, tally: Tally) -> None:
        self.endpoint, self.tally = endpoint, tally
        self.service, self.span_name = endpoint.service, endpoint.span_name

    def decoded(self, body: bytes) -> Any:
        decode = getattr(self.endpoint, "decoded", None)
        return decode(body) if decode is not None else None

    async def __call__(self, body: bytes, decoded: Any = None) -> bytes:
        started = time.perf_counter_ns()
        reply: bytes = b'{"status":"error","code":"internal"}'
        try:
            reply = await (self.endpoint(body, decoded) if decoded is not None
                           else self.endpoint(body))
            return reply
        finally:
            self.tally.record(time.perf_counter_ns() - started, reply)


class Presence(Service):
    """nats-py's micro service, its endpoints taken from the runtime's table."""

    def __init__(self, client: Client, config: ServiceConfig, tallies: list[Tally]) -> None:
        super().__init__(client, config)
        self.tallies = tallies

    def info(self) -> ServiceInfo:
        info = super().info()
        info.endpoints = [t.info() for t in self.tallies]
        return info

    def stats(self) -> ServiceStats:
        stats = super().stats()
        stats.endpoints = [t.stats() for t in self.tallies]
        return stats

    async def reset(self) -> None:
        await super().reset()
        for t in self.tallies:
            t.requests = t.errors = t.nanoseconds = 0
            t.last_error = ""


async def announce(nc: Client, spec: ServiceSpec, instance: str, health_url: str,
                   tallies: list[Tally] | None = None) -> Service:
    service = Presence(nc, ServiceConfig(
        name=spec.name,
        version=spec.version,
        description=spec.description or spec.name,
        metadata={
            "instance": instance,
            "health": health_url,
            "queries": ",".join(q.name for q in spec.queries),
            "commands": ",".join(c.name for c in spec.commands),
            "personal": ",".join(f"{c}={f}" for c, f in spec.personal_reads.items()),
            "platform": "im",
        },
    ), tallies or [])
    await service.start()
    return service
