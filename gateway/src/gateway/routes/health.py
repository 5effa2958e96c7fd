"""Probes. /livez: the process serves HTTP (a liveness probe restarts it only when this
fails, so a NATS outage does not restart every gateway); /readyz: it can answer now,
connected to NATS and its database answering (a readiness probe takes it out of the
load balancer meanwhile); /health: the bus connection, as before (compose, scripts)."""

from __future__ import annotations

import asyncio

from litestar import Response, get
from litestar.datastructures import State
from litestar.openapi.datastructures import ResponseSpec
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from gateway.lifespan import Bus
from gateway.schemas import HealthStatus

DATABASE_TIMEOUT = 1.0


def _answer(problem: str | None) -> Response[HealthStatus]:
    if problem is None:
        return Response(HealthStatus(status="ok"), status_code=HTTP_200_OK)
    return Response(HealthStatus(status="unavailable", detail=problem),
                    status_code=HTTP_503_SERVICE_UNAVAILABLE)


@get("/health", tags=["operations"], summary="Gateway bus connection",
     responses={HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
         data_container=HealthStatus, description="Not connected to NATS")})
async def health(state: State) -> Response[HealthStatus]:
    bus: Bus = state.bus
    return _answer(None if bus.connected else bus.detail)


@get("/livez", tags=["operations"], summary="Gateway liveness (for restarts)",
     responses={HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
         data_container=HealthStatus, description="The bus connection closed for good")})
async def livez(state: State) -> Response[HealthStatus]:
    bus: Bus = state.bus
    return _answer("the NATS connection closed for good" if bus.lost else None)


@get("/readyz", tags=["operations"], summary="Gateway readiness (NATS and its database)",
     responses={HTTP_503_SERVICE_UNAVAILABLE: ResponseSpec(
         data_container=HealthStatus, description="NATS or the database is unreachable")})
async def readyz(state: State) -> Response[HealthStatus]:
    bus: Bus = state.bus
    if not bus.connected:
        return _answer(bus.detail)
    audit = state.get("audit")
    client = getattr(audit, "client", None)
    if client is None:
        return _answer("starting")
    try:
        await asyncio.wait_for(client.admin.command("ping"), DATABASE_TIMEOUT)
    except Exception as exc:
        return _answer(f"database unreachable: {type(exc).__name__}")
    return _answer(None)
