"""Response bodies of the gateway API (msgspec Structs; Litestar documents them in /schema)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec


class HealthStatus(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    status: Literal["ok", "unavailable"]
    detail: str | None = msgspec.field(default=None)


class ServiceInstance(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    version: str
    health: str | None = None  # the instance's own health URL, as it announces it


class ServiceSummary(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    versions: list[str]
    instances: list[ServiceInstance]


class Index(msgspec.Struct, frozen=True, kw_only=True):
    name: str
    links: dict[str, str]


class ErrorBody(msgspec.Struct, frozen=True, kw_only=True):
    """The shared error shape (contracts.ErrorReply without its tag)."""

    code: str
    message: str
    details: dict[str, str] = {}


class Aggregate(msgspec.Struct, frozen=True, kw_only=True):
    """A scatter-gather answer: one section per service that answered in time, and the
    services expected to answer that did not."""

    sections: dict[str, dict[str, Any]]
    missing: list[str]


class ListPage(msgspec.Struct, frozen=True, kw_only=True):
    """A page of a list owned by one service, as that service returned it."""

    items: list[dict[str, Any]]
    total: int
    offset: int
    limit: int


class AuditEntry(msgspec.Struct, frozen=True, kw_only=True):
    id: str
    at: datetime
    subject: str
    role: str
    resident_id: str
    action: str  # the read: resident_overview, list_residents
    outcome: Literal["read", "refused"]
    sections: list[str] = []


class AuditPage(msgspec.Struct, frozen=True, kw_only=True):
    items: list[AuditEntry]
    total: int
    offset: int
    limit: int
