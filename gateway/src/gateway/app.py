"""The gateway's Litestar application."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import State
from litestar.openapi.config import OpenAPIConfig

from gateway.lifespan import bus_lifespan
from gateway.routes.health import health
from gateway.routes.index import index
from gateway.routes.services import list_services
from im_runtime.settings import Settings

VERSION = "0.1.0"


def create_app(settings: Settings | None = None, *, discovery_timeout: float = 0.5,
               connect_wait: float = 5.0) -> Litestar:
    """Build the app; nothing connects until the lifespan starts (settings are read now).

    `discovery_timeout`: how long /api/v1/services collects answers from the bus;
    `connect_wait`: how long startup waits for the first NATS connection before serving
    anyway (answering 503 on /health until connected)."""
    settings = settings or Settings.from_env()
    return Litestar(
        route_handlers=[index, health, list_services],
        lifespan=[bus_lifespan],
        state=State({"settings": settings, "discovery_timeout": discovery_timeout,
                     "connect_wait": connect_wait}),
        openapi_config=OpenAPIConfig(title="Integration management platform", version=VERSION),
    )
