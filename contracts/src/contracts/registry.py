"""Lookup of every message type the contracts define, for decoding and schema export."""

from __future__ import annotations

import importlib
from collections.abc import Iterable
from typing import Any

from contracts._base import CloudEvent, Command, EventData, Query, Reply, event_type

# Modules whose messages belong to the platform's shared language.
MODULES = ("contracts.platform", "contracts.queries", "contracts.referrals",
           "contracts.counselling", "contracts.housing", "contracts.housing_commands",
           "contracts.education", "contracts.education_commands",
           "contracts.employment", "contracts.employment_commands",
           "contracts.operator", "contracts.feedback", "contracts.privacy")


def _load() -> None:
    for name in MODULES:
        importlib.import_module(name)


def _subclasses(base: type[Any]) -> Iterable[type[Any]]:
    for sub in base.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def _ours(cls: type) -> bool:
    return cls.__module__ in MODULES or cls.__module__ == "contracts._base"


def event_types() -> dict[str, type[EventData]]:
    _load()
    found: list[type[EventData]] = list(_subclasses(EventData))
    # Shared bases set no tag of their own (msgspec then tags them with the class name):
    # only classes with a real type name `im.<service>.<event>.v<N>` are events.
    return {event_type(c): c for c in found
            if _ours(c) and str(c.__struct_config__.tag).startswith("im.")}


def all_messages() -> dict[str, Any]:
    """Name -> type of every message: each event in its CloudEvent envelope (named by its
    type), and every command, query, reply and record (named module.Class)."""
    _load()
    from contracts.platform import RECORDS

    out: dict[str, Any] = {name: CloudEvent[cls]  # type: ignore[valid-type]
                           for name, cls in event_types().items()}
    for base in (Command, Query, Reply):
        for c in (base, *_subclasses(base)):
            if _ours(c):
                out[f"{c.__module__}.{c.__name__}"] = c
    for c in RECORDS:
        out[f"{c.__module__}.{c.__name__}"] = c
    return out
