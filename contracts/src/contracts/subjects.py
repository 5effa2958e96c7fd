"""Every subject and stream name on the bus, defined once.

events      im.evt.<service>.<event>[.<resident_id>]   durable (JetStream)
commands    im.cmd.<service>.<command>                  request/reply, queue group
queries     im.qry.<query>                              scatter-gather
operators   im.ops.<operator_id>.<event>[.<resident_id>] durable, per-operator rights
dead letters im.dlq.<service>.<resident_id or _>          durable
feedback    im.fb.<operator_id>.<event>[.<resident_id>]  durable, read only by that operator
sync        im.sync.<service>                            core NATS, between a service's instances

Operator-published event types are named `im.operator.<event>.v<N>`, feedback types
`im.feedback.<event>.v<N>` (their data names the `operator_id` they go to).
"""

from __future__ import annotations

import re

PREFIX = "im"
_TOKEN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class SubjectError(ValueError):
    """A name that cannot be a subject token (empty, dots, wildcards, spaces)."""


def token(value: str, what: str = "token") -> str:
    if not _TOKEN.fullmatch(value):
        raise SubjectError(f"{what} {value!r} is not a valid subject token ([A-Za-z0-9_-], 1-64)")
    return value


def event(service: str, name: str, resident_id: str | None = None) -> str:
    base = f"{PREFIX}.evt.{token(service, 'service')}.{token(name, 'event')}"
    return f"{base}.{token(resident_id, 'resident id')}" if resident_id is not None else base


def events_of(service: str) -> str:
    """Wildcard for every event a service publishes."""
    return f"{PREFIX}.evt.{token(service, 'service')}.>"


def event_filter(service: str, name: str) -> str:
    """Matches one event type with and without the resident token."""
    return f"{PREFIX}.evt.{token(service, 'service')}.{token(name, 'event')}.>"


def command(service: str, name: str) -> str:
    return f"{PREFIX}.cmd.{token(service, 'service')}.{token(name, 'command')}"


def query(name: str) -> str:
    return f"{PREFIX}.qry.{token(name, 'query')}"


def query_for(name: str, service: str) -> str:
    """The query asked of one service: only that service may subscribe, so its answer
    (to this request's own reply subject) is known to be its own."""
    return f"{query(name)}.{token(service, 'service')}"


def sync(service: str) -> str:
    """Core NATS (not stored): an instance of the service tells its other instances which
    documents its commit changed (keys only), so their in-memory read models reload them."""
    return f"{PREFIX}.sync.{token(service, 'service')}"


def operator_event(operator_id: str, name: str, resident_id: str | None = None) -> str:
    base = f"{PREFIX}.ops.{token(operator_id, 'operator id')}.{token(name, 'event')}"
    return f"{base}.{token(resident_id, 'resident id')}" if resident_id is not None else base


def operator_filter(name: str, about_resident: bool) -> str:
    """Matches one operator event type from every operator."""
    return f"{PREFIX}.ops.*.{token(name, 'event')}" + (".*" if about_resident else "")


def parse_operator(subject: str) -> tuple[str, str, str | None]:
    """(operator_id, event, resident_id or None) of an operator subject."""
    parts = subject.split(".")
    if len(parts) not in (4, 5) or parts[:2] != [PREFIX, "ops"]:
        raise SubjectError(f"{subject!r} is not an operator subject")
    return parts[2], parts[3], parts[4] if len(parts) == 5 else None


def feedback(operator_id: str, name: str, resident_id: str | None = None) -> str:
    base = f"{PREFIX}.fb.{token(operator_id, 'operator id')}.{token(name, 'event')}"
    return f"{base}.{token(resident_id, 'resident id')}" if resident_id is not None else base


def feedback_of(operator_id: str) -> str:
    return f"{PREFIX}.fb.{token(operator_id, 'operator id')}.>"


def feedback_consumer(operator_id: str) -> str:
    """The durable consumer on IM_FEEDBACK, filtered to `feedback_of`, that is the only
    way an operator reads its feedback (the platform creates it; the operator binds)."""
    return f"fb_{token(operator_id, 'operator id')}"


NO_RESIDENT = "_"


def dead_letter(service: str, resident_id: str | None = None) -> str:
    """`im.dlq.<service>.<resident_id>` (`_` when the message was about no resident), so
    an erasure purges the dead letters about that resident too."""
    rid = token(resident_id, "resident id") if resident_id is not None else NO_RESIDENT
    return f"{PREFIX}.dlq.{token(service, 'service')}.{rid}"


def dead_letters_of(service: str) -> str:
    return f"{PREFIX}.dlq.{token(service, 'service')}.*"


def resident_of(subject: str) -> str | None:
    """The resident an event, operator, feedback or dead-letter subject is about."""
    parts = subject.split(".")
    if parts[:1] != [PREFIX] or len(parts) < 2:
        return None
    depth = {"evt": 5, "ops": 5, "fb": 5, "dlq": 4}.get(parts[1])
    if depth is None or len(parts) != depth or parts[-1] == NO_RESIDENT:
        return None
    return parts[-1]


def template(subject: str) -> str:
    """The subject with its resident's id as `{resident_id}`: what logs, span attributes
    and metric labels may carry (`im.evt.housing.resident_registered.{resident_id}`)."""
    rid = resident_of(subject)
    return f"{subject[:-len(rid)]}{{resident_id}}" if rid else subject


def purge_filters(resident_id: str) -> list[str]:
    """Subject filters that match every subject ending in this resident's id (events,
    operators' events, feedback, dead letters): one per subject depth in use."""
    rid = token(resident_id, "resident id")
    return [f"{PREFIX}.dlq.*.{rid}", f"{PREFIX}.*.*.*.{rid}"]


def event_stream(service: str) -> str:
    return f"IM_EVT_{token(service, 'service').upper().replace('-', '_')}"


OPS_STREAM = "IM_OPS"
OPS_SUBJECTS = f"{PREFIX}.ops.>"
OPERATOR = "operator"
FEEDBACK = "feedback"
FEEDBACK_STREAM = "IM_FEEDBACK"
FEEDBACK_SUBJECTS = f"{PREFIX}.fb.>"
DLQ_STREAM = "IM_DLQ"
DLQ_SUBJECTS = f"{PREFIX}.dlq.>"


def parse_event(subject: str) -> tuple[str, str, str | None]:
    """(service, event, resident_id or None) of an event subject."""
    parts = subject.split(".")
    if len(parts) not in (4, 5) or parts[:2] != [PREFIX, "evt"]:
        raise SubjectError(f"{subject!r} is not an event subject")
    return parts[2], parts[3], parts[4] if len(parts) == 5 else None
