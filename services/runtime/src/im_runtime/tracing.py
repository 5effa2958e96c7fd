"""OpenTelemetry tracing for services and the gateway: one setup, and the W3C trace context
carried in NATS headers.

Off unless an exporter is configured (`OTEL_EXPORTER_OTLP_ENDPOINT` or
`OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`: OTLP over HTTP; `IM_TRACE_FILE`: one JSON object a
line). Off, the API's no-op tracer stays in place: spans cost next to nothing, and a
trace context that arrives in a header is still passed on."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from opentelemetry import propagate, trace
from opentelemetry.context import Context
from opentelemetry.trace import Span, SpanKind, StatusCode
from opentelemetry.util.types import Attributes

from im_runtime.settings import SettingsError

if TYPE_CHECKING:
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter

__all__ = ["SpanKind", "extract", "ids", "inject", "outcome", "recording", "setup", "span"]

_TRACER = trace.get_tracer("im")  # a proxy: follows the provider `setup` installs later


def setup(service: str, version: str | None = None,
          env: Mapping[str, str] | None = None) -> TracerProvider | None:
    """Install the process's tracer provider if an exporter is configured; call once, at
    the process's entry point. OTEL_SERVICE_NAME, when set, names the process instead."""
    env = os.environ if env is None else env
    otlp = bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT")
                or env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
    path = env.get("IM_TRACE_FILE")
    if env.get("OTEL_SDK_DISABLED", "").strip().lower() == "true" or not (otlp or path):
        return None
    # The SDK is imported only here: most processes never trace.
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    from im_runtime.tracefile import JsonLinesExporter

    exporters: list[SpanExporter] = []
    if path:
        try:
            exporters.append(JsonLinesExporter(path))
        except OSError as exc:
            raise SettingsError(f"IM_TRACE_FILE: cannot open {path!r}: {exc}") from None
    if otlp:  # endpoint, headers, timeout and protocol details from the OTEL_* variables
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        exporters.append(OTLPSpanExporter())
    attrs: dict[str, str] = {"service.namespace": "im"}
    if not env.get("OTEL_SERVICE_NAME"):
        attrs[SERVICE_NAME] = service
    if version:
        attrs[SERVICE_VERSION] = version
    # The SDK reads OTEL_TRACES_SAMPLER and OTEL_BSP_* (batch delay and size) itself, and
    # flushes what is left at interpreter exit.
    provider = TracerProvider(resource=Resource.create(attrs))
    for exporter in exporters:
        provider.add_span_processor(BatchSpanProcessor(exporter))
    trace.set_tracer_provider(provider)
    return provider


def recording() -> bool:
    """Whether a tracer provider is installed: off, a span that has no parent to pass on
    can be skipped altogether (the hot path of event consumption)."""
    return not isinstance(trace.get_tracer_provider(), trace.ProxyTracerProvider)


def inject(headers: dict[str, str] | None = None) -> dict[str, str]:
    """The current trace context (`traceparent`, …) added to `headers` (or a new dict);
    nothing is added when no span is current."""
    carrier: dict[str, str] = {} if headers is None else headers
    propagate.inject(carrier)
    return carrier


def extract(headers: Mapping[str, Any] | None) -> Context:
    """The trace context a message carries; an empty context (a new trace) when it carries
    none or a malformed one: a bad header never fails the handler."""
    if not headers:
        return Context()
    try:
        return propagate.extract({k: v for k, v in headers.items() if isinstance(v, str)},
                                 context=Context())
    except Exception:
        return Context()


@contextlib.contextmanager
def span(name: str, kind: SpanKind = SpanKind.INTERNAL, *, parent: Context | None = None,
         attributes: Attributes = None) -> Iterator[Span]:
    """A current span named `name`: a child of `parent` (from `extract`) or, without
    one, of the span current now. Exceptions are recorded and mark it as an error."""
    with _TRACER.start_as_current_span(name, context=parent, kind=kind,
                                       attributes=attributes) as current:
        yield current


def ids() -> tuple[str, str] | None:
    """(trace id, span id) in hex of the current span, for log records; None outside one."""
    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return None
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"


def outcome(status: str) -> None:
    """The current span's outcome: an error reply's code, or "ok"; "internal" (a bug or an
    outage, not a refusal) marks the span as failed."""
    current = trace.get_current_span()
    current.set_attribute("im.status", status)
    if status == "internal":
        current.set_status(StatusCode.ERROR)
