"""The one-hop map of a service: every subject it takes messages on and the handler each
goes to, as the runtime runs it (the plugin's spec plus what the runtime adds for data
protection: the erasure consumer, the privacy report and retention). `im services
--routes` prints it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from contracts import event_parts
from contracts import subjects as subj
from im_runtime import privacy
from im_runtime.spec import ServiceSpec
from im_runtime.wiring import consumer_name, filters


@dataclass(frozen=True)
class Route:
    service: str
    kind: str  # "event", "command" or "query"
    subject: str
    handler: str
    via: str  # the durable consumer (events) or the queue group and how many at once
    where: str = ""


def handler_name(fn: Callable[..., Any]) -> str:
    """`module.function` (a handler made by a factory: `module.factory.function`)."""
    name = getattr(fn, "__qualname__", type(fn).__name__).replace(".<locals>", "")
    return f"{fn.__module__}.{name}"


def routes(spec: ServiceSpec) -> list[Route]:
    spec = privacy.effective(spec)  # as the runtime runs it
    out: list[Route] = []
    for on in spec.consumes:
        for t in on.types:
            source = event_parts(t)[0]
            out.append(Route(spec.name, "event", filters([t])[0], handler_name(on.handler),
                             consumer_name(spec.name, source),
                             on.where.text if on.where else ""))
    for c in spec.commands:
        lane = ("read, concurrent" if c.read else
                f"one lane per {handler_name(c.order_by)}" if c.order_by else "one lane")
        out.append(Route(spec.name, "command", subj.command(spec.name, c.name),
                         handler_name(c.handler), f"queue {spec.name}, {lane}"))
    for q in spec.queries:
        for subject in (subj.query(q.name), subj.query_for(q.name, spec.name)):
            out.append(Route(spec.name, "query", subject, handler_name(q.handler),
                             f"queue {spec.name}, concurrent"))
    return out


def table(rows: list[Route]) -> str:
    """The routes as aligned text, one a line."""
    head = ("SERVICE", "KIND", "SUBJECT", "HANDLER", "VIA", "WHERE")
    cells = [head, *((r.service, r.kind, r.subject, r.handler, r.via, r.where) for r in rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(head) - 1)]
    return "\n".join("  ".join([*(c[i].ljust(widths[i]) for i in range(len(widths))),
                                c[-1]]).rstrip() for c in cells)
