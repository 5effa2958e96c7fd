"""Service presence on the bus through the NATS micro protocol ($SRV.PING/INFO/STATS):
name, version and instance id, plus what the instance answers, in its metadata."""

from __future__ import annotations

from nats.aio.client import Client
from nats.micro import add_service
from nats.micro.service import Service

from im_runtime.spec import ServiceSpec


async def announce(nc: Client, spec: ServiceSpec, instance: str, health_url: str) -> Service:
    return await add_service(
        nc,
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
    )
