"""GET /: where to find things (the dashboard will take this place)."""

from __future__ import annotations

from litestar import get

from gateway.schemas import Index


@get("/", tags=["operations"], summary="Links to the API, its schema and health")
async def index() -> Index:
    return Index(name="im-gateway", links={
        "health": "/health", "services": "/api/v1/services", "openapi": "/schema"})
