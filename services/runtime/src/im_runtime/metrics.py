"""Prometheus metrics of one service process."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram


class Metrics:
    def __init__(self, service: str) -> None:
        self.registry = CollectorRegistry()
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
        self.latency = Histogram("im_handler_seconds", "Time to handle a message or batch",
                                 labels + ["kind"], registry=self.registry)
        self.service = service
