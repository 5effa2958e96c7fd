"""JSON Schemas of the messages on the bus, as components of one document (AsyncAPI,
OpenAPI): every payload refers to `#/components/schemas/<name>`, one schema per class.

msgspec names a component after its class and after its import path when two classes
share a name (no two contract classes may: cli/tests/test_asyncapi.py), but not for
generic envelopes (`CloudEvent[a.Thing]` and `CloudEvent[b.Thing]` collide, msgspec 0.22
raises a KeyError). So the
event data classes become components and each event's envelope is built here: the
CloudEvent schema with `data` pointing at its class and `type` fixed to its type name."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import msgspec

from contracts import CloudEvent, EventData, event_type

ENVELOPE = "CloudEvent"


def _asyncapi_safe(node: Any) -> Any:
    """msgspec writes OpenAPI's `discriminator` object on tagged unions; AsyncAPI's and
    JSON Schema's dialects take the tag field's name only (or nothing): keep the name."""
    if isinstance(node, dict):
        out = {k: _asyncapi_safe(v) for k, v in node.items()}
        if isinstance(out.get("discriminator"), dict):
            out["discriminator"] = out["discriminator"]["propertyName"]
        return out
    if isinstance(node, list):
        return [_asyncapi_safe(v) for v in node]
    return node


class Schemas:
    """Components for a set of message types; `ref(t)` is what a payload names."""

    def __init__(self, types: Iterable[Any], *, discriminator_object: bool = False,
                 prefix: str = "") -> None:
        """`prefix`: what the document puts before each name (components from elsewhere
        share its `components/schemas`); the keys of `components` have none."""
        ref = f"#/components/schemas/{prefix}{{name}}"
        wanted = list(dict.fromkeys(types))
        plain = [t for t in wanted if not _is_event(t)]
        events = [t for t in wanted if _is_event(t)]
        envelope = [CloudEvent[EventData]] if events else []  # type: ignore[misc]
        tops, comps = msgspec.json.schema_components([*plain, *events, *envelope],
                                                     ref_template=ref)
        self._refs: dict[Any, dict[str, Any]] = dict(zip([*plain, *events], tops, strict=False))
        if events:
            envelope_name = tops[-1]["$ref"].rsplit("/", 1)[1].removeprefix(prefix)
            comps[ENVELOPE] = _envelope(comps.pop(envelope_name))
        for t in events:
            name = f"{ENVELOPE}.{event_type(t)}"
            comps[name] = {
                "title": event_type(t),
                "description": f"A CloudEvent whose data is a {event_type(t)}.",
                "allOf": [{"$ref": ref.format(name=ENVELOPE)},
                          {"type": "object", "required": ["type", "data"],
                           "properties": {"type": {"const": event_type(t)},
                                          "data": self._refs[t]}}]}
            self._refs[(ENVELOPE, t)] = {"$ref": ref.format(name=name)}
        self._prefix = prefix
        comps = optional_data_type(comps)
        self.components = comps if discriminator_object else _asyncapi_safe(comps)

    def ref(self, t: Any) -> dict[str, Any]:
        """The schema of a message body: an event's is its whole CloudEvent."""
        return copy.deepcopy(self._refs[(ENVELOPE, t) if _is_event(t) else t])

    def resolve(self, t: Any) -> dict[str, Any]:
        """The schema of a plain (not event) type itself, to adapt (a copy)."""
        name = self._refs[t]["$ref"].rsplit("/", 1)[1].removeprefix(self._prefix)
        return copy.deepcopy(self.components[name])


def optional_data_type(node: Any) -> Any:
    """An event data's `type` as the wire has it (contracts.codec): not required, as the
    envelope's `type` names the event; where a body repeats it, it must be the same."""
    if isinstance(node, list):
        return [optional_data_type(v) for v in node]
    if not isinstance(node, dict):
        return node
    out = {k: optional_data_type(v) for k, v in node.items()}
    tag = out.get("properties", {}).get("type", {}).get("enum")
    if isinstance(tag, list) and len(tag) == 1 and str(tag[0]).startswith("im."):
        out["properties"]["type"] = {
            **out["properties"]["type"],
            "description": "Optional: the envelope's `type` names the event (the platform "
                           "writes it there only); where given, it must be the same."}
        out["required"] = [r for r in out.get("required", []) if r != "type"]
        if not out["required"]:
            del out["required"]
    return out


def _envelope(schema: dict[str, Any]) -> dict[str, Any]:
    """CloudEvent[EventData] without its `data` (each event's own schema adds it)."""
    schema.pop("title", None)
    schema["properties"].pop("data")
    return schema


def _is_event(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, EventData)
