"""Response bodies of the gateway API (msgspec Structs; Litestar documents them in /schema)."""

from __future__ import annotations

from typing import Literal

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
