"""GET /health: 200 while the gateway is connected to NATS, 503 otherwise."""

from __future__ import annotations

from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from gateway.lifespan import Bus
from gateway.schemas import HealthStatus


@get("/health", tags=["operations"], summary="Gateway liveness and bus connection",
      responses={HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
          data_container=HealthStatus, description="Not connected to NATS")})
async def health(state: State) -> Response[HealthStatus]:
    bus: Bus = state.bus
    if bus.connected:
        return Response(HealthStatus(status="ok"), status_code=HTTP_200_OK)
    return Response(HealthStatus(status="unavailable", detail=bus.detail),
                    status_code=HTTP_503_SERVICE_UNAVAILABLE)
