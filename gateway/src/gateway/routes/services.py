"""GET /api/v1/services: the services running right now, from a scatter-gather on the bus."""

from __future__ import annotations

from litestar import get
from litestar.datastructures import State
from litestar.exceptions import HTTPException
from litestar.status_codes import HTTP_503_SERVICE_UNAVAILABLE

from gateway.auth import ANY_ROLE
from gateway.lifespan import Bus
from gateway.schemas import ServiceInstance, ServiceSummary
from im_runtime.discovery import Instance, instances


def summarise(found: dict[str, list[Instance]]) -> list[ServiceSummary]:
    out: list[ServiceSummary] = []
    for name in sorted(found):
        insts = sorted(found[name], key=lambda i: (i.version, i.id))
        out.append(ServiceSummary(
            name=name,
            versions=sorted({i.version for i in insts}),
            instances=[ServiceInstance(id=i.id, version=i.version,
                                       health=i.metadata.get("health") or None)
                       for i in insts]))
    return out


@get("/api/v1/services", tags=["services"], guards=[ANY_ROLE],
     summary="Services running now, with their instances")
async def list_services(state: State) -> list[ServiceSummary]:
    bus: Bus = state.bus
    if not bus.connected:
        raise HTTPException(status_code=HTTP_503_SERVICE_UNAVAILABLE, detail=bus.detail)
    return summarise(await instances(bus.nc, state.discovery_timeout))
