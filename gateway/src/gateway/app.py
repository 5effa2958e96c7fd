"""The gateway's Litestar application: the one place that wires routes, guards,
dependencies, error handling and the lifespans."""

from __future__ import annotations

from litestar import Litestar
from litestar.datastructures import MutableScopeHeaders, State
from litestar.di import Provide
from litestar.openapi.spec import Components, SecurityScheme
from litestar.types import Message, Scope

from gateway.auth import Tokens, provide_actor
from gateway.config import GatewayConfig
from gateway.errors import HANDLERS
from gateway.lifespan import bus_lifespan
from gateway.observe import GatewayMetrics, metrics_endpoint, observed
from gateway.openapi import TypedOpenAPIConfig
from gateway.routes.audit import audit_log
from gateway.routes.commands import ROUTES as COMMAND_ROUTES
from gateway.routes.erasure import ROUTES as ERASURE_ROUTES
from gateway.routes.export import ROUTES as EXPORT_ROUTES
from gateway.routes.health import health, livez, readyz
from gateway.routes.index import home, index
from gateway.routes.lists import list_residents, list_sites
from gateway.routes.plugin_pages import ROUTES as PLUGIN_PAGE_ROUTES
from gateway.routes.plugin_pages import installed as installed_pages
from gateway.routes.services import list_services
from gateway.routes.signin import ROUTES as SIGNIN_ROUTES
from gateway.routes.users import ROUTES as USER_ROUTES
from gateway.routes.views import resident, site, stats
from gateway.routes.web import ROUTES as WEB_ROUTES
from gateway.wiring import parts_lifespan
from im_runtime import erasure_keys
from im_runtime.settings import Settings

VERSION = "0.2.0"
# Bodies beyond this are refused (413) before they are read whole: no command is this big.
MAX_BODY_BYTES = 256 * 1024
HARDENING = {"x-content-type-options": "nosniff", "x-frame-options": "DENY",
             "referrer-policy": "no-referrer"}


async def hardened(message: Message, scope: Scope) -> None:
    """Every response: not sniffed, not framed; answers about people are never cached
    (the API's always, the rest unless they say how to cache)."""
    if message["type"] != "http.response.start":
        return
    headers = MutableScopeHeaders.from_message(message)
    for name, value in HARDENING.items():
        headers[name] = value
    if scope["path"].startswith("/api/") or "cache-control" not in headers:
        headers["cache-control"] = "no-store"


def create_app(settings: Settings | None = None, config: GatewayConfig | None = None, *,
               discovery_timeout: float | None = None,
               connect_wait: float | None = None) -> Litestar:
    """Build the app; nothing connects until the lifespan starts (settings are read now).

    `discovery_timeout`: how long one $SRV.INFO round collects answers; `connect_wait`:
    how long startup waits for the first NATS connection before serving anyway
    (answering 503 on /health until connected). Both override `config`."""
    settings = settings or Settings.from_env()
    erasure_keys.use(settings.erasure_secret)  # the keys of erased residents (audit, 410s)
    config = config or GatewayConfig.from_env()
    timeout = config.discovery_timeout if discovery_timeout is None else discovery_timeout
    wait = config.connect_wait if connect_wait is None else connect_wait
    metrics = GatewayMetrics()
    return Litestar(
        route_handlers=[home, index, health, livez, readyz, metrics_endpoint, list_services,
                        resident, site, stats, list_sites, list_residents, audit_log,
                        *COMMAND_ROUTES, *ERASURE_ROUTES, *EXPORT_ROUTES, *SIGNIN_ROUTES,
                        *USER_ROUTES, *PLUGIN_PAGE_ROUTES, *WEB_ROUTES],
        middleware=[observed(metrics)],
        before_send=[hardened],
        request_max_body_size=MAX_BODY_BYTES,
        dependencies={"actor": Provide(provide_actor)},
        exception_handlers=HANDLERS,
        lifespan=[bus_lifespan, parts_lifespan],
        state=State({"settings": settings, "config": config, "tokens": Tokens(config.key),
                     "discovery_timeout": timeout, "connect_wait": wait,
                     "metrics": metrics, "pages": installed_pages()}),
        openapi_config=TypedOpenAPIConfig(
            title="Integration management platform", version=VERSION,
            components=Components(security_schemes={"bearer": SecurityScheme(
                type="http", scheme="bearer", bearer_format="JWT")}),
            security=[{"bearer": []}]),
    )
