"""Scatter-gather with a deadline: ask every service once, merge what arrives in time."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import msgspec

from contracts import ErrorReply, Query, ServiceSection
from contracts import subjects as subj
from gateway.directory import Directory
from gateway.errors import ApiError
from gateway.lifespan import Bus
from gateway.observe import GatewayMetrics
from gateway.schemas import Aggregate
from im_runtime import tracing

log = logging.getLogger("im.gateway")
_ENC = msgspec.json.Encoder()
_DEC = msgspec.json.Decoder(ServiceSection | ErrorReply)


class Aggregator:
    def __init__(self, bus: Bus, directory: Directory, deadline: float,
                 metrics: GatewayMetrics | None = None) -> None:
        self.bus, self.directory, self.deadline = bus, directory, deadline
        self.metrics = metrics or GatewayMetrics()

    async def ask(self, name: str, query: Query) -> Aggregate:
        """Every section that arrives before the deadline; the expected services that
        did not answer (or answered with an error) are listed as missing."""
        if not self.bus.connected:
            raise ApiError("unavailable", self.bus.detail, service="bus")
        loop = asyncio.get_running_loop()
        until = loop.time() + self.deadline
        expected = await self.directory.expected(name, wait=self.deadline / 2)
        with tracing.span(f"gather {name}", tracing.SpanKind.CLIENT,
                          attributes={"messaging.destination.name": subj.query(name)}) as span:
            answers = await self._scatter(name, _ENC.encode(query), expected,
                                          max(0.0, until - loop.time()))
            sections = {s: a.section for s, a in answers.items()
                        if isinstance(a, ServiceSection)}
            missing = sorted((expected | answers.keys()) - sections.keys())
            span.set_attributes({"im.answered": sorted(sections), "im.missing": missing})
        for service in missing:
            self.metrics.missing.labels(name, service).inc()
        return Aggregate(sections=dict(sorted(sections.items())), missing=missing)

    async def _scatter(self, name: str, payload: bytes, expected: set[str],
                       timeout: float) -> dict[str, ServiceSection | ErrorReply]:
        """The first answer of each expected service; returns as soon as every one
        answered, else at the deadline.

        Each service is asked on its own subject (`im.qry.<query>.<service>`, which only
        that service may subscribe to) with a reply subject of its own, and a NATS user
        may answer only the requests it received: so an answer on `<inbox>.housing` is
        housing's, whatever service its body names. A plugin answering as `housing`
        (to decide whose residents an operator may see) is not heard."""
        nc = self.bus.nc
        answers: dict[str, ServiceSection | ErrorReply] = {}
        done = asyncio.Event()
        inbox = nc.new_inbox()

        async def collect(msg: Any) -> None:
            service = msg.subject.rpartition(".")[2]
            if service not in expected or service in answers:
                return  # not asked, or answered already: the first answer stands
            try:
                reply = _DEC.decode(msg.data)
            except msgspec.DecodeError as exc:
                log.warning("undecodable answer of %s to %s: %s", service, name, exc)
                return
            named = (reply.service if isinstance(reply, ServiceSection)
                     else reply.details.get("service", service))
            if named != service:
                log.warning("an answer to %s on %s's reply subject names %s; ignored",
                            name, service, named)
                return
            if isinstance(reply, ErrorReply):
                log.warning("%s answered %s with %s: %s", service, name, reply.code,
                            reply.message)
            answers[service] = reply
            if expected <= answers.keys():
                done.set()

        sub = await nc.subscribe(f"{inbox}.*", cb=collect)
        try:
            # The client's flusher sends them; the services' spans join the current trace.
            headers = tracing.inject() or None
            for service in sorted(expected):
                try:
                    subject = subj.query_for(name, service)
                except subj.SubjectError:
                    continue  # a name no service of ours can have
                await nc.publish(subject, payload, reply=f"{inbox}.{service}",
                                 headers=headers)
            if expected:
                await asyncio.wait_for(done.wait(), timeout)
        except TimeoutError:
            pass
        finally:
            await sub.unsubscribe()
        return dict(answers)
