"""What a service plugin declares: one small spec object, found through the
`im.services` entry-point group. The runtime does all the wiring from it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import msgspec
from pymongo import IndexModel

from contracts import MAX_MESSAGE_BYTES, CloudEvent, Command, EventData, Query, Reply, event_parts
from contracts.privacy import PersonKind
from contracts.queries import (
    CITY_STATS,
    RESIDENT_OVERVIEW,
    SITE_OVERVIEW,
    GetCityStats,
    GetResidentOverview,
    GetSiteOverview,
)
from contracts.referrals import ANSWERS, ReferralTopicsDeclared, Topic
from im_runtime.storage import Store
from im_runtime.storage.unit_of_work import UnitOfWork

EventHandler = Callable[[CloudEvent[Any], UnitOfWork], Awaitable[None]]
# Which handler takes an event (None: no route of the service takes it).
Router = Callable[[CloudEvent[Any]], "EventHandler | None"]
CommandHandler = Callable[[Any, UnitOfWork], Awaitable[Reply]]
QueryHandler = Callable[[Any, UnitOfWork], Awaitable[Mapping[str, Any] | None]]


@dataclass
class Erased:
    """What a service's erasure did, collection -> documents (its confirmation says so)."""

    removed: dict[str, int] = field(default_factory=dict)
    anonymised: dict[str, int] = field(default_factory=dict)

    def count(self, collection: str, n: int = 1, *, anonymised: bool = False) -> None:
        into = self.anonymised if anonymised else self.removed
        if n:
            into[collection] = into.get(collection, 0) + n


# Remove or anonymise everything about one resident, through the unit of work.
EraseHandler = Callable[[str, UnitOfWork], Awaitable[Erased]]
# Everything a service holds about one resident (Art. 15 GDPR): collection -> documents.
ExportHandler = Callable[[str, UnitOfWork], Awaitable[dict[str, list[dict[str, Any]]]]]


@dataclass(frozen=True)
class Retention:
    """Documents of `collection` matching `where` go `days` after the date in `after`
    (stored as a datetime, an ISO date string or epoch seconds). `days` is the default;
    `IM_RETENTION_<SERVICE>_<NAME>` (days) overrides it where the service runs."""

    name: str
    collection: str
    after: str
    days: int
    where: Mapping[str, Any] = field(default_factory=dict)
    stored: str = "datetime"  # "datetime" | "date" | "epoch"
    # The field of the removed documents naming the person whose record this is ("_id"
    # for a registry keyed by the person): once a run removes it, every message about
    # that person leaves the event log (privacy's expiries), as after an erasure.
    forgets: str | None = None
    # Who that person is: "resident", "volunteer" or "staff" (contracts.privacy.PersonKind);
    # for the latter two the log also loses every message whose body names them.
    person: PersonKind = "resident"


@dataclass(frozen=True)
class WorkerContext:
    """What a background worker gets: the bus, the service's store and settings."""

    nc: Any
    js: Any
    store: Store
    settings: Any
    metrics: Any


# A long-running task of the service, started once it is ready, cancelled on stop.
Worker = Callable[[WorkerContext], Coroutine[Any, Any, None]]


@dataclass(frozen=True)
class Where:
    """A condition on an event's data, declared with its route (`On(..., where=...)`), so
    that the route says which events reach the handler (`im services --routes` prints
    `text`) instead of the handler returning early."""

    text: str
    test: Callable[[Any], bool] = field(compare=False)

    def __call__(self, data: Any) -> bool:
        return self.test(data)


def topic_is(*topics: str) -> Where:
    """Referrals (any event with a `topic`) of these topics."""
    wanted = frozenset(topics)
    return Where(f"topic in ({', '.join(topics)})",
                 lambda data: getattr(data, "topic", None) in wanted)


@dataclass(frozen=True)
class On:
    """Consume events of these types (any version listed) with `handler`; with `where`,
    only those whose data meets it (the others are acked untouched). Where several
    routes take one type, the first whose `where` holds handles the event.

    `idempotent`: the handler leaves the same state whether an event comes once, twice or
    after a later one (say, each fact keeps the event time it was set at and later facts
    win). The runtime then stores no processed id for these events, one write less per
    event; one that emits an event still gets its id stored, so it is not sent twice."""

    types: tuple[type[EventData], ...]
    handler: EventHandler
    idempotent: bool
    where: Where | None

    def __init__(self, *types: type[EventData], handler: EventHandler,
                 idempotent: bool = False, where: Where | None = None) -> None:
        object.__setattr__(self, "types", types)
        object.__setattr__(self, "handler", handler)
        object.__setattr__(self, "idempotent", idempotent)
        object.__setattr__(self, "where", where)


@dataclass(frozen=True)
class Handles:
    """Answer command `command` (request/reply, one instance of the service).

    An instance handles these commands one at a time, in order of arrival; with
    `order_by`, only those with the same key (say, the site whose places they take), and
    others at once (up to IM_COMMAND_WORKERS). A key should name what the commands
    contend for: commands of different keys that change one document are retried.

    `read`: the command only reads (get_…, list_…). Its handler gets a read-only view of
    the service's data, answered from memory; nothing is stored (no processed id, no
    reply, no commit) and such commands are answered concurrently, like queries."""

    name: str
    command: type[Command]
    handler: CommandHandler
    reply: type[Reply] = Reply
    order_by: Callable[[Any], str] | None = None
    read: bool = False

    def __post_init__(self) -> None:
        if self.read and self.order_by is not None:
            raise ValueError(f"{self.name}: a read command is not ordered (order_by)")


@dataclass(frozen=True)
class Answers:
    """Answer scatter-gather query `name` with this service's section (or nothing)."""

    name: str
    query: type[Query]
    handler: QueryHandler


@dataclass(frozen=True)
class ServiceSpec:
    name: str
    version: str
    description: str = ""
    publishes: tuple[type[EventData], ...] = ()
    consumes: tuple[On, ...] = ()
    commands: tuple[Handles, ...] = ()
    queries: tuple[Answers, ...] = ()
    indexes: Mapping[str, Sequence[IndexModel]] = field(default_factory=dict)
    # Largest event body this service accepts (operators' events are bounded by it).
    max_message_bytes: int = MAX_MESSAGE_BYTES
    # Withhold original bodies from dead letters (they may carry free text).
    redact_dead_letters: bool = False
    # The operators' inbox: takes every im.ops event, so an unknown type is dead-lettered
    # instead of lying unread in the stream. At most one service should say so.
    operator_inbox: bool = False
    # How to erase one resident; without it the runtime removes documents whose `_id` or
    # `resident_id` is the resident in every collection named in `indexes`.
    erase: EraseHandler | None = None
    # What a resident's access export holds; without it the runtime gives the documents
    # the default erasure finds (im_runtime.export.documents_about), which a hook may
    # extend with documents that name the person otherwise (housing's households).
    export: ExportHandler | None = None
    retention: tuple[Retention, ...] = ()
    workers: tuple[Worker, ...] = ()
    # Further subjects it publishes on (JetStream API calls a worker makes), for the
    # generated NATS permissions.
    bus_rights: tuple[str, ...] = ()
    # Referral topics this service answers, with the shared contract of
    # `contracts.referrals` (accepted / rejected with a reason / completed). The spec then
    # publishes those answers and, each time it starts, a `ReferralTopicsDeclared` with
    # these topics, from which counselling learns who owns which topic.
    referral_topics: tuple[str, ...] = ()
    # Commands whose replies carry personal data -> the field (anywhere in the reply) that
    # names the person: the gateway writes an audit entry for every person such a reply
    # names, on every route, as for the aggregated views. Announced in its presence.
    personal_reads: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if unknown := set(self.personal_reads) - {c.name for c in self.commands}:
            raise ValueError(f"{self.name}: personal_reads names no command {sorted(unknown)}")
        if not self.referral_topics:
            return
        msgspec.convert(list(self.referral_topics), list[Topic])  # each a valid topic
        wanted = (*ANSWERS, ReferralTopicsDeclared)
        declare = DeclareTopics(self.name, self.version, self.referral_topics)
        # Idempotent: `dataclasses.replace` (the runtime's effective spec) runs this again.
        object.__setattr__(self, "publishes", (
            *self.publishes, *(t for t in wanted if t not in self.publishes)))
        if declare not in self.workers:
            object.__setattr__(self, "workers", (*self.workers, declare))

    def source_streams(self) -> dict[str, list[type[EventData]]]:
        """The publishing service of each consumed event type -> the types wanted from it."""
        out: dict[str, list[type[EventData]]] = {}
        for on in self.consumes:
            for t in on.types:
                out.setdefault(event_parts(t)[0], []).append(t)
        return out

    def router(self) -> Router:
        """The one hop from an event to its handler, as `consumes` declares it."""
        from contracts import event_type

        table: dict[str, list[On]] = {}
        for on in self.consumes:
            for t in on.types:
                table.setdefault(event_type(t), []).append(on)

        def route(event: CloudEvent[Any]) -> EventHandler | None:
            for on in table.get(event.type, ()):
                if on.where is None or on.where(event.data):
                    return on.handler
            return None
        return route

    def idempotent_types(self) -> frozenset[str]:
        from contracts import event_type

        return frozenset(event_type(t) for on in self.consumes if on.idempotent for t in on.types)


@dataclass(frozen=True)
class DeclareTopics:
    """The worker a spec with `referral_topics` gets: it announces them once at start,
    through the outbox (so it waits there while the referrals stream does not exist yet)."""

    service: str
    version: str
    topics: tuple[str, ...]

    async def __call__(self, ctx: WorkerContext) -> None:
        uow = ctx.store.unit_of_work(self.service)
        uow.emit(ReferralTopicsDeclared(service=self.service, version=self.version,
                                        topics=list(self.topics)))
        await uow.commit()


def views(resident: QueryHandler, site: QueryHandler, city: QueryHandler) -> tuple[Answers, ...]:
    """The three scatter-gather views every service may answer, with its handlers."""
    return (Answers(RESIDENT_OVERVIEW, GetResidentOverview, resident),
            Answers(SITE_OVERVIEW, GetSiteOverview, site),
            Answers(CITY_STATS, GetCityStats, city))
