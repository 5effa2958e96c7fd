"""Prometheus metrics of one service process. Names follow Prometheus' conventions:
durations are `*_duration_seconds` histograms, counters end in `_total`; every process
also exports the standard `process_*` and `python_gc_*` families and a `*_build_info`
gauge (value 1) that names what runs. No label ever carries a resident's id."""

from __future__ import annotations

import platform
from importlib.metadata import PackageNotFoundError, version

from prometheus_client import (
    GC_COLLECTOR,
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
)


def package_version(name: str) -> str:
    try:
        return version(name)
    except PackageNotFoundError:
        return "unknown"


def standard_collectors(registry: CollectorRegistry, build_info: str, help_text: str,
                        **labels: str) -> Gauge:
    """The process (CPU, memory, open files, start time), Python GC and platform
    collectors on `registry`, and the build-info gauge `build_info` set to 1."""
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    if GC_COLLECTOR is not None:  # None on interpreters without gc.get_stats
        GCCollector(registry=registry)
    labels = {**labels, "runtime": package_version("im-runtime"),
              "python": platform.python_version()}
    info = Gauge(build_info, help_text, list(labels), registry=registry)
    info.labels(**labels).set(1)
    return info


class Metrics:
    def __init__(self, service: str, service_version: str = "") -> None:
        self.registry = CollectorRegistry()
        self.build_info = standard_collectors(
            self.registry, "im_build_info", "What this service process runs (always 1)",
            service=service, version=service_version or "unknown")
        labels = ["service"]
        self.consumed = Counter("im_events_consumed", "Events handled and acked",
                                labels + ["type"], registry=self.registry)
        self.duplicates = Counter("im_events_duplicate", "Events skipped as already handled",
                                  labels, registry=self.registry)
        self.erased_dropped = Counter("im_events_about_erased",
                                      "Events dropped because their resident was erased",
                                      labels, registry=self.registry)
        self.failed = Counter("im_events_failed", "Handler failures (each delivery)",
                              labels + ["type"], registry=self.registry)
        self.dead_lettered = Counter("im_events_dead_lettered", "Messages sent to the DLQ",
                                     labels + ["reason"], registry=self.registry)
        self.commands = Counter("im_commands", "Commands answered", labels + ["command", "status"],
                                registry=self.registry)
        self.conflicts = Counter("im_conflicts", "Units of work run again because a document "
                                 "they read changed before they committed",
                                 labels + ["kind"], registry=self.registry)
        self.published = Counter("im_events_published", "Outbox entries relayed to JetStream",
                                 labels, registry=self.registry)
        self.outbox_pending = Gauge("im_outbox_pending", "Outbox entries not yet relayed",
                                    labels, registry=self.registry)
        self.lag = Gauge("im_consumer_lag", "Messages pending for a durable consumer",
                         labels + ["consumer"], registry=self.registry)
        self.replay_pending = Gauge("im_replay_pending",
                                    "History a consumer still has to replay before the "
                                    "service answers", labels + ["consumer"],
                                    registry=self.registry)
        self.latency = Histogram("im_handler_duration_seconds",
                                 "Time to handle a command or a batch of events",
                                 labels + ["kind"], registry=self.registry)
        self.service = service
