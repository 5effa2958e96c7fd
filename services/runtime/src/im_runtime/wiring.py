"""How a service's spec becomes JetStream consumers: their names, filter subjects and
configuration, and the trust check on operators' events."""

from __future__ import annotations

from typing import Any

from nats.js.api import ConsumerConfig

from contracts import about_resident, event_parts
from contracts import subjects as subj
from im_runtime.settings import Settings
from im_runtime.spec import ServiceSpec


def consumer_name(service: str, source: str) -> str:
    return f"{service}__{source}"


def filters(types: list[Any]) -> list[str]:
    """One filter per event type (each extra filter subject slows the consumer):
    `…<event>.*` for types always about a resident, the bare subject otherwise."""
    out: list[str] = []
    for t in types:
        source, name, _ = event_parts(t)
        if source == subj.OPERATOR:
            f = subj.operator_filter(name, about_resident(t))
        else:
            f = subj.event(source, name) + (".*" if about_resident(t) else "")
        if f not in out:
            out.append(f)
    return out


def consumer_filters(spec: ServiceSpec, source: str, types: list[Any]) -> list[str]:
    """The filter subjects of the service's durable consumer on `source` (the NATS
    permissions grant creating it with exactly these, im_cli.natsauth)."""
    if source == subj.OPERATOR and spec.operator_inbox:
        return [subj.OPS_SUBJECTS]
    return filters(types)


def consumer_config(name: str, wanted: list[str], **settings: Any) -> ConsumerConfig:
    """Named (`CONSUMER.CREATE.<stream>.<name>[.<filter>]`, never the legacy DURABLE API);
    a single filter goes in the API subject, where the bus permission pins it."""
    if len(wanted) == 1:
        return ConsumerConfig(durable_name=name, name=name, filter_subject=wanted[0],
                              **settings)
    return ConsumerConfig(durable_name=name, name=name, filter_subjects=wanted, **settings)


def durable_config(spec: ServiceSpec, source: str, types: list[Any],
                   settings: Settings) -> ConsumerConfig:
    """The service's durable pull consumer on `source`'s stream, as the runtime runs it
    and the admin's provisioning creates it (im_cli.natsauth) when a permission cannot
    pin it (several filters)."""
    from im_runtime.undelivered import backstop

    # The pull loop holds two batches unacked (one handled, one fetched ahead): below
    # that, a fetch waits out its timeout for messages the server may not send yet
    # (JetStream's default max_ack_pending is 1,000). The consumer counts attempts itself
    # (transient errors and held batches do not count); the server's limit is a backstop.
    return consumer_config(consumer_name(spec.name, source),
                           consumer_filters(spec, source, types), ack_wait=settings.ack_wait,
                           max_deliver=backstop(settings.max_deliver),
                           max_ack_pending=max(1000, 4 * settings.batch_size))


def pinned(config: ConsumerConfig) -> bool:
    """Whether a bus permission can name this consumer's creation exactly: a single
    filter goes in the API subject; several (`filter_subjects`) go in the body, which
    nats-server checks against no permission."""
    return bool(config.filter_subject) and not config.filter_subjects


def verify_operator(msg: Any, event: Any) -> str | None:
    """The trust boundary for operators' events: the operator named in the subject (which
    the bus lets only that operator publish on) must be the event's source, and a
    resident token must be the resident the event is about."""
    operator, name, resident = subj.parse_operator(msg.subject)
    if name != event_parts(type(event.data))[1]:
        return f"subject is for event {name!r} but the body is a {event.type!r}"
    if event.source != operator:
        return (f"subject is for operator {operator!r} but the event's source is "
                f"{event.source!r}")
    key = event.data.resident_key()
    if key != resident:
        return f"subject names resident {resident!r} but the event is about {key!r}"
    return None
