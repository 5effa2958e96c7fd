"""Finished spans appended to a file, one JSON object a line (`IM_TRACE_FILE`): for tests
and for operators without a collector. Imported only when tracing is on."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import msgspec
from opentelemetry.sdk.resources import SERVICE_NAME
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult

_ENC = msgspec.json.Encoder()


class JsonLinesExporter(SpanExporter):
    """Each batch is one O_APPEND write, so several processes can share the file without
    interleaving their lines."""

    def __init__(self, path: str) -> None:
        self.path = path
        self._fd: int | None = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        if self._fd is None:
            return SpanExportResult.FAILURE
        data = b"".join(_ENC.encode(record(s)) + b"\n" for s in spans)
        try:
            while data:
                data = data[os.write(self._fd, data):]
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        return True


def record(s: ReadableSpan) -> dict[str, Any]:
    ctx = s.get_span_context()
    return {
        "trace_id": f"{ctx.trace_id:032x}" if ctx else None,
        "span_id": f"{ctx.span_id:016x}" if ctx else None,
        "parent_id": f"{s.parent.span_id:016x}" if s.parent else None,
        "name": s.name,
        "kind": s.kind.name.lower(),
        "service": s.resource.attributes.get(SERVICE_NAME),
        "start_ns": s.start_time,
        "end_ns": s.end_time,
        "status": s.status.status_code.name.lower(),
        "attributes": dict(s.attributes or {}),
    }
