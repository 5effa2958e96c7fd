"""Lookup of every message type the contracts define, for decoding and schema export."""

from __future__ import annotations

import importlib
from collections.abc import Iterable

import msgspec

from contracts._base import Command, EventData, Query, Reply, event_type

# Modules whose messages belong to the platform's shared language.
MODULES = ("contracts.platform",)


def _load() -> None:
    for name in MODULES:
        importlib.import_module(name)


def _subclasses(base: type) -> Iterable[type]:
    for sub in base.__subclasses__():
        yield sub
        yield from _subclasses(sub)


def event_types() -> dict[str, type[EventData]]:
    _load()
    return {event_type(c): c for c in _subclasses(EventData)
            if isinstance(c.__struct_config__.tag, str)}


def all_messages() -> dict[str, type[msgspec.Struct]]:
    """Name -> Struct of every event data, command, query and reply."""
    _load()
    out: dict[str, type[msgspec.Struct]] = dict(event_types())
    for base in (Command, Query, Reply):
        out[f"{base.__module__}.{base.__name__}"] = base
        for c in _subclasses(base):
            out[f"{c.__module__}.{c.__name__}"] = c
    return out
