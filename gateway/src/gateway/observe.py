"""The gateway's own observability: a server span, a latency observation and an access
log line per HTTP request (one middleware does all three, by route template), and its
Prometheus metrics on GET /metrics."""

from __future__ import annotations

import logging
import time
from typing import Any, cast

from litestar import Response, get
from litestar.datastructures import State
from litestar.types import ASGIApp, HTTPScope, Message, Receive, Scope, Send
from opentelemetry.trace import SpanKind, StatusCode
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)

from im_runtime import tracing
from im_runtime.metrics import package_version, standard_collectors

# The access log: the route template, never the path or query (ids, names searched for).
access = logging.getLogger("im.gateway.access")
# Probes and scrapes every few seconds would bury the requests worth a trace.
UNTRACED = frozenset({"/health", "/livez", "/readyz", "/metrics"})
_TRACE_HEADERS = frozenset({b"traceparent", b"tracestate"})


class GatewayMetrics:
    """One registry per app (not the process-wide default), so apps built side by side in
    one process, as the tests do, keep their own series."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.build_info = standard_collectors(
            self.registry, "im_gateway_build_info", "What this gateway process runs "
            "(always 1)", version=package_version("im-gateway"))
        self.latency = Histogram(
            "im_gateway_request_duration_seconds", "HTTP request latency by route template",
            ["method", "route"], registry=self.registry)
        self.responses = Counter(
            "im_gateway_responses", "HTTP responses by route template and status",
            ["method", "route", "status"], registry=self.registry)
        self.missing = Counter(
            "im_gateway_missing_sections",
            "Expected services that gave no section to a scatter-gather in time",
            ["query", "service"], registry=self.registry)

    def observe(self, method: str, route: str, status: int, seconds: float) -> None:
        self.latency.labels(method, route).observe(seconds)
        self.responses.labels(method, route, str(status)).inc()


def observed(metrics: GatewayMetrics) -> Any:
    """Litestar middleware factory. It runs after routing, so `path_template` names the
    route (`/api/v1/residents/{resident_id}`): no ids in span names or metric labels."""

    def middleware(app: ASGIApp) -> ASGIApp:
        async def handle(scope: Scope, receive: Receive, send: Send) -> None:
            if scope["type"] != "http":
                await app(scope, receive, send)
                return
            method, route = cast("HTTPScope", scope)["method"], scope["path_template"]
            status = 500  # unless a response starts

            async def sending(message: Message) -> None:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                await send(message)

            started = time.perf_counter()
            try:
                if route in UNTRACED:
                    await app(scope, receive, sending)
                    return
                carrier = {k.decode("latin-1"): v.decode("latin-1")
                           for k, v in scope["headers"] if k in _TRACE_HEADERS}
                with tracing.span(f"{method} {route}", SpanKind.SERVER,
                                  parent=tracing.extract(carrier),
                                  attributes={"http.request.method": method,
                                              "http.route": route}) as span:
                    try:
                        await app(scope, receive, sending)
                    finally:
                        span.set_attribute("http.response.status_code", status)
                        if status >= 500:
                            span.set_status(StatusCode.ERROR)
            finally:
                seconds = time.perf_counter() - started
                metrics.observe(method, route, status, seconds)
                if route not in UNTRACED:
                    access.info("%s %s %d", method, route, status,
                                extra={"ms": round(seconds * 1000, 1)})

        return handle

    return middleware


@get("/metrics", tags=["operations"], summary="Prometheus metrics of the gateway",
     include_in_schema=False)
async def metrics_endpoint(state: State) -> Response[bytes]:
    registry: CollectorRegistry = state.metrics.registry
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
