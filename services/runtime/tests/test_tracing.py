"""Trace context over NATS headers: inject and extract agree, a malformed header starts a
new trace without failing the handler, the outbox keeps the emitting handler's context,
and log records name the trace. The process-wide provider is never set here (it can be
set once per process): spans are recorded with a provider of the test's own."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor

from contracts.queries import GetResidentOverview
from im_runtime import Answers, logs, tracing
from im_runtime.pipeline.endpoints import QueryEndpoint
from im_runtime.settings import SettingsError
from im_runtime.storage.memory import MemoryStore
from im_runtime.tracefile import JsonLinesExporter
from im_runtime.transport.requests import answer
from support.probe import Counted

pytestmark = pytest.mark.unit

TRACE = "4bf92f3577b34da6a3ce929d0e0e4736"
PARENT = f"00-{TRACE}-00f067aa0ba902b7-01"
MALFORMED = ["garbage", "00-xyz-01", "", f"00-{'0' * 32}-00f067aa0ba902b7-01",
             f"ff-{TRACE}-00f067aa0ba902b7-01", f"00-{TRACE.upper()}-00f067aa0ba902b7-01"]


def test_inject_then_extract_round_trips_the_span_context():
    tracer = TracerProvider().get_tracer("test")
    with tracer.start_as_current_span("send") as sent:
        headers = tracing.inject({"Nats-Msg-Id": "e-1"})
    assert headers["Nats-Msg-Id"] == "e-1"
    got = trace.get_current_span(tracing.extract(headers)).get_span_context()
    want = sent.get_span_context()
    assert (got.trace_id, got.span_id, got.is_remote) == (want.trace_id, want.span_id, True)


def test_nothing_is_injected_outside_a_span():
    assert tracing.inject() == {}


@pytest.mark.parametrize("value", MALFORMED)
def test_a_malformed_traceparent_is_ignored(value):
    ctx = tracing.extract({"traceparent": value})
    assert not trace.get_current_span(ctx).get_span_context().is_valid
    with tracing.span("query x", tracing.SpanKind.SERVER, parent=ctx):
        assert tracing.ids() is None or tracing.ids()[0] != TRACE  # type: ignore[index]


def test_headers_of_another_shape_are_ignored():
    for headers in (None, {}, {"traceparent": b"not str"}, {"traceparent": None}):
        assert not trace.get_current_span(tracing.extract(headers)).get_span_context().is_valid


def test_the_trace_goes_on_even_with_tracing_off():
    """No provider installed: the no-op tracer still hands the caller's context on."""
    with tracing.span("query x", tracing.SpanKind.SERVER,
                      parent=tracing.extract({"traceparent": PARENT})):
        assert tracing.ids() == (TRACE, "00f067aa0ba902b7")
        assert tracing.inject()["traceparent"].split("-")[1] == TRACE


def query_endpoint() -> QueryEndpoint:
    async def overview(q: GetResidentOverview, uow: Any) -> dict[str, Any]:
        return {"resident_id": q.resident_id}

    return QueryEndpoint(service="probe", version="1.0.0", store=MemoryStore(),
                         route=Answers("resident_overview", GetResidentOverview, overview))


@pytest.mark.parametrize("headers", [{"traceparent": "garbage"}, {"traceparent": PARENT}, None])
async def test_the_reply_handler_answers_whatever_the_header(headers):
    msg = SimpleNamespace(headers=headers, data=b'{"resident_id": "r1"}',
                          subject="im.qry.resident_overview")
    reply = json.loads(await answer(query_endpoint(), msg))
    assert reply["status"] == "ok" and reply["section"] == {"resident_id": "r1"}


async def test_the_outbox_keeps_the_emitting_handlers_trace():
    store = MemoryStore()
    uow = store.unit_of_work("probe")
    with tracing.span("event x", tracing.SpanKind.CONSUMER,
                      parent=tracing.extract({"traceparent": PARENT})):
        uow.emit(Counted(resident_id="r1", total=1))
    uow.emit(Counted(resident_id="r2", total=1))  # outside any span: no header
    await uow.commit()
    first, second = await store.pending_outbox(10)
    assert first["headers"]["traceparent"].split("-")[1] == TRACE
    assert second["headers"] == {}


def test_json_logs_name_the_trace_inside_a_span():
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    handler.setFormatter(logs.JsonFormatter())
    log = logging.getLogger("im.test.tracing")
    log.addHandler(handler)
    log.propagate = False
    try:
        with tracing.span("query x", parent=tracing.extract({"traceparent": PARENT})):
            log.warning("inside")
        log.warning("outside")
    finally:
        log.removeHandler(handler)
    inside, outside = (json.loads(line) for line in out.getvalue().splitlines())
    assert inside["trace_id"] == TRACE and inside["span_id"] == "00f067aa0ba902b7"
    assert "trace_id" not in outside


def test_the_trace_file_gets_one_json_line_per_span(tmp_path: Path):
    path = tmp_path / "spans.jsonl"
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(JsonLinesExporter(str(path))))
    tracer = provider.get_tracer("test")
    with tracer.start_as_current_span("gather x", kind=tracing.SpanKind.CLIENT) as outer, \
            tracer.start_as_current_span("inner", attributes={"im.missing": ["a", "b"]}):
        pass
    provider.shutdown()
    inner, gather = (json.loads(line) for line in path.read_text().splitlines())
    assert gather["name"] == "gather x" and gather["kind"] == "client"
    assert gather["trace_id"] == f"{outer.get_span_context().trace_id:032x}"
    assert inner["parent_id"] == gather["span_id"] and inner["trace_id"] == gather["trace_id"]
    assert inner["attributes"] == {"im.missing": ["a", "b"]}
    assert gather["end_ns"] >= gather["start_ns"] > 0


def test_setup_is_a_no_op_without_an_exporter_and_names_a_bad_trace_file(tmp_path: Path):
    assert tracing.setup("probe", env={}) is None
    assert tracing.setup("probe", env={"IM_TRACE_FILE": str(tmp_path / "t.jsonl"),
                                       "OTEL_SDK_DISABLED": "true"}) is None
    with pytest.raises(SettingsError, match="IM_TRACE_FILE"):
        tracing.setup("probe", env={"IM_TRACE_FILE": str(tmp_path / "no" / "such" / "dir")})


@pytest.mark.integration
def test_otlp_export_reaches_the_collector_named_by_the_standard_variable(tmp_path: Path):
    """A process with OTEL_EXPORTER_OTLP_ENDPOINT sends its spans there (OTLP/HTTP)."""
    got: list[tuple[str, str, bytes]] = []

    class Collector(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            got.append((self.path, self.headers["Content-Type"], body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Collector)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    script = ("from im_runtime import tracing\n"
              "assert tracing.setup('probe', '1.2.3') is not None\n"
              "with tracing.span('query resident_overview', tracing.SpanKind.SERVER):\n"
              "    pass\n")
    try:
        subprocess.run([sys.executable, "-c", script], check=True, timeout=60, env={
            **os.environ, "OTEL_EXPORTER_OTLP_ENDPOINT": f"http://127.0.0.1:{server.server_port}"})
    finally:
        server.shutdown()
    assert len(got) == 1  # flushed at exit
    path, content_type, body = got[0]
    assert path == "/v1/traces" and content_type == "application/x-protobuf"
    assert b"query resident_overview" in body and b"probe" in body
