"""Base Structs for every message on the bus: events, commands, queries, replies.

Pure data: nothing here does I/O or imports a framework.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, ClassVar, Generic, Literal, TypeVar, dataclass_transform

import msgspec

# Upper bound for any message body; larger ones are refused before decoding.
MAX_MESSAGE_BYTES = 256 * 1024


class _ContractMeta(msgspec.StructMeta):
    """msgspec inherits `frozen` and the tag settings but not `kw_only`: this sets it for
    every contract Struct, so the options are written once, here."""

    def __new__(mcls, name: str, bases: tuple[type, ...], namespace: dict[str, Any],
                **options: Any) -> Any:
        options.setdefault("kw_only", True)
        return super().__new__(mcls, name, bases, namespace, **options)


# (The decorator tells type checkers what the metaclass does.)
@dataclass_transform(kw_only_default=True, frozen_default=True,
                     field_specifiers=(msgspec.field,))
class Struct(msgspec.Struct, metaclass=_ContractMeta, frozen=True):
    """The base of every contract: frozen, its fields keyword-only."""


def new_id() -> str:
    return uuid.uuid4().hex


def utcnow() -> datetime:
    return datetime.now(UTC)


class EventData(Struct, tag_field="type"):
    """The `data` of a CloudEvent. Each subclass sets `tag=` to its versioned type
    name (`im.<service>.<event>.v<N>`), so a union of them decodes in one pass."""

    def resident_key(self) -> str | None:
        """The resident this event is about: the last subject token, for purging."""
        return None


D = TypeVar("D", bound=EventData)


class CloudEvent(Struct, Generic[D]):
    """CloudEvents 1.0, structured JSON mode. `id` is the dedupe key (Nats-Msg-Id)."""

    specversion: Literal["1.0"] = "1.0"
    id: str = msgspec.field(default_factory=new_id)
    source: str
    type: str
    time: datetime = msgspec.field(default_factory=utcnow)
    subject: str | None = None
    datacontenttype: Literal["application/json"] = "application/json"
    data: D


def event_type(cls: type[EventData]) -> str:
    tag = cls.__struct_config__.tag
    if not isinstance(tag, str):
        raise TypeError(f"{cls.__name__} has no string tag")
    return tag


def event_parts(cls: type[EventData]) -> tuple[str, str, int]:
    """(service, event, version) from a type name `im.<service>.<event>.v<N>`."""
    parts = event_type(cls).split(".")
    if len(parts) != 4 or parts[0] != "im" or not parts[3].startswith("v"):
        raise TypeError(f"{cls.__name__}: type name must be im.<service>.<event>.v<N>")
    return parts[1], parts[2], int(parts[3][1:])


def about_resident(cls: type[EventData]) -> bool:
    """Whether every event of this type is about one resident (its subject then always
    ends in the resident id): the type overrides `resident_key`."""
    return cls.resident_key is not EventData.resident_key


def wrap(data: EventData, *, source: str, id: str | None = None,
         time: datetime | None = None) -> CloudEvent[EventData]:
    """Build the envelope for `data`; `subject` is the resident id where there is one."""
    if about_resident(type(data)) and not data.resident_key():
        raise ValueError(f"{type(data).__name__} is about a resident but names none")
    return CloudEvent(
        id=id or new_id(),
        source=source,
        type=event_type(type(data)),
        time=time or utcnow(),
        subject=data.resident_key(),
        data=data,
    )


class Actor(Struct):
    """Who asks: set by the gateway from the verified token, trusted by services."""

    subject: str
    role: Literal["city_admin", "social_worker", "operator", "provider", "auditor", "system"]
    sites: tuple[str, ...] = ()
    operator: str | None = None
    provider: str | None = None


SYSTEM = Actor(subject="system", role="system")


class Command(Struct):
    """A request to one owning service. `command_id` makes a retried command idempotent."""

    command: ClassVar[str] = ""
    command_id: str = msgspec.field(default_factory=new_id)
    actor: Actor = SYSTEM


class Query(Struct):
    """A scatter-gather question: every service with something to say answers."""

    query: ClassVar[str] = ""
    actor: Actor = SYSTEM


class Reply(Struct, tag_field="status", tag="ok"):
    """A successful answer to a command or query."""


ErrorCode = Literal[
    "bad_request", "unauthorised", "forbidden", "not_found", "conflict", "gone",
    "unavailable", "internal",
    # A command whose change is stored but whose events wait for room in their stream:
    # not done yet; they go out by themselves (HTTP 202).
    "accepted",
]


class ErrorReply(Reply, tag="error"):
    """The one error answer every service gives; the gateway maps `code` to HTTP."""

    code: ErrorCode
    message: str
    details: dict[str, str] = {}


class Ack(Reply, tag="ok"):
    """A command's answer when it has nothing to return but its id."""

    id: str


class ServiceSection(Reply, tag="ok"):
    """One service's answer to a scatter-gather query: its section of the view."""

    service: str
    version: str
    section: dict[str, Any] = {}


_M = TypeVar("_M")


class Page(msgspec.Struct, Generic[_M]):
    items: list[_M]
    total: int
    offset: int = 0
    limit: int = 50
