"""JSON Schemas of the messages on the bus, as components of one document (AsyncAPI,
OpenAPI): every payload refers to `#/components/schemas/<name>`, one schema per class.

msgspec names a component after its class and after its import path when two classes
share a name, but not for generic envelopes (`CloudEvent[feedback.ReferralAccepted]` and
`CloudEvent[referrals.ReferralAccepted]` collide, msgspec 0.22 raises a KeyError). So the
event data classes become components and each event's envelope is built here: the
CloudEvent schema with `data` pointing at its class and `type` fixed to its type name."""

from __future__ import annotations

import copy
from collections.abc import Iterable
from typing import Any

import msgspec

from contracts import CloudEvent, EventData, event_type

REF = "#/components/schemas/{name}"
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

    def __init__(self, types: Iterable[Any], *, discriminator_object: bool = False) -> None:
        wanted = list(dict.fromkeys(types))
        plain = [t for t in wanted if not _is_event(t)]
        events = [t for t in wanted if _is_event(t)]
        tops, comps = msgspec.json.schema_components(
            [*plain, *events, CloudEvent[EventData]], ref_template=REF)  # type: ignore[misc]
        self._refs: dict[Any, dict[str, Any]] = dict(zip([*plain, *events], tops, strict=False))
        envelope_name = tops[-1]["$ref"].rsplit("/", 1)[1]
        envelope = comps.pop(envelope_name)
        envelope.pop("title", None)
        envelope["properties"].pop("data")
        comps[ENVELOPE] = envelope
        for t in events:
            name = f"{ENVELOPE}.{event_type(t)}"
            comps[name] = {
                "title": event_type(t),
                "description": f"A CloudEvent whose data is a {event_type(t)}.",
                "allOf": [{"$ref": REF.format(name=ENVELOPE)},
                          {"type": "object", "required": ["type", "data"],
                           "properties": {"type": {"const": event_type(t)},
                                          "data": self._refs[t]}}]}
            self._refs[(ENVELOPE, t)] = {"$ref": REF.format(name=name)}
        self.components = comps if discriminator_object else _asyncapi_safe(comps)

    def ref(self, t: Any) -> dict[str, Any]:
        """The schema of a message body: an event's is its whole CloudEvent."""
        return copy.deepcopy(self._refs[(ENVELOPE, t) if _is_event(t) else t])

    def data_ref(self, t: type[EventData]) -> dict[str, Any]:
        return copy.deepcopy(self._refs[t])


def _is_event(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, EventData)
