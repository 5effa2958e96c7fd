"""The AsyncAPI 3.0 document of the bus, generated from the installed services' specs
(as the runtime runs them, privacy routes included) and their contracts' JSON Schemas.

The application it describes is the platform as a whole: it *sends* events, feedback
and dead letters, and *receives* commands and queries (answering on the request's reply
subject) and the operators' events. Subject names come from `contracts.subjects`.

    uv run im contracts asyncapi        # writes docs/asyncapi.yaml and docs/asyncapi.md
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from contracts import (
    ErrorReply,
    EventData,
    ServiceSection,
    about_resident,
    event_parts,
    event_type,
)
from contracts import subjects as subj
from contracts.payloads import Schemas
from contracts.platform import DeadLetter
from contracts.registry import event_types

VERSION = "1.0.0"
RESIDENT = {"description": "The resident's pseudonymous id (absent from events about no "
                           "resident). An erasure purges every subject ending in it."}
OPERATOR = {"description": "The operator's id: the CloudEvent `source` of its events, and "
                           "the operator its NATS user (`operator-<id>`) belongs to."}
SECURITY = [{"$ref": "#/components/securitySchemes/natsUser"}]
SERVERS = {
    "embedded": {"host": "127.0.0.1:4222", "protocol": "nats", "security": SECURITY,
                 "description": "`make run` (`im up`): one nats-server with JetStream; "
                                "passwords in var/nats/passwords.json."},
    "compose": {"host": "nats1:4222", "protocol": "nats", "security": SECURITY,
                "description": "`docker compose up`: a 3-node cluster (nats1, nats2, nats3 "
                               "on 4222); passwords from .env."},
}


def _address(fn: Any, *args: str) -> str:
    """A subject from `contracts.subjects` with `{parameter}`s where its tokens vary (the
    functions check tokens, so they get markers, swapped back after)."""
    marks = {f"P{i}x": a for i, a in enumerate(args) if a.startswith("{")}
    out = fn(*(next((m for m, a2 in marks.items() if a2 == a), a) for a in args))
    for mark, param in marks.items():
        out = out.replace(mark, param)
    return str(out)


def _first_line(cls: Any) -> str:
    """The first sentence of a class's docstring (msgspec Structs without one have none)."""
    text = " ".join((getattr(cls, "__doc__", None) or "").split("\n\n")[0].split())
    if text.startswith(f"{getattr(cls, '__name__', '')}("):  # msgspec's generated signature
        return ""
    return text.split(". ")[0].rstrip(".") + "." if text else ""


def _key(text: str) -> str:
    return text.replace("{", "").replace("}", "").replace(">", "all")


class Doc:
    def __init__(self, schemas: Schemas) -> None:
        self.schemas = schemas
        self.channels: dict[str, Any] = {}
        self.operations: dict[str, Any] = {}
        self.messages: dict[str, Any] = {}

    def message(self, name: str, t: Any, summary: str = "", headers: bool = False) -> dict:
        title = event_type(t) if _is_event(t) else t.__name__
        msg: dict[str, Any] = {"name": name, "title": title,
                               "summary": summary or _first_line(t) or title,
                               "contentType": "application/json",
                               "payload": self.schemas.ref(t)}
        if headers:
            msg["headers"] = {"type": "object", "properties": {"Nats-Msg-Id": {
                "type": "string", "description": "the CloudEvent id: JetStream drops a "
                                                 "second copy within the duplicate window"}}}
        self.messages[name] = msg
        return {"$ref": f"#/components/messages/{name}"}

    def channel(self, key: str, address: str | None, description: str,
                messages: dict[str, Any], parameters: Mapping[str, Any] | None = None) -> dict:
        ch: dict[str, Any] = {"address": address, "description": description,
                              "messages": messages}
        if parameters:
            ch["parameters"] = dict(parameters)
        self.channels[key] = ch
        return {"$ref": f"#/channels/{key}"}

    def operation(self, key: str, action: str, channel: dict, summary: str,
                  reply: dict | None = None, tags: Iterable[str] = ()) -> None:
        chan_key = channel["$ref"].rsplit("/", 1)[1]
        op: dict[str, Any] = {"action": action, "channel": channel, "summary": summary,
                              "messages": [{"$ref": f"#/channels/{chan_key}/messages/{m}"}
                                           for m in self.channels[chan_key]["messages"]]}
        if reply:
            op["reply"] = reply
        if tags:
            op["tags"] = [{"name": t} for t in tags]
        self.operations[key] = op

    def events(self, source: str, name: str, types: list[type[EventData]],
               publishers: list[str]) -> None:
        on_resident = any(about_resident(t) for t in types)
        if source == subj.FEEDBACK:
            address = _address(subj.feedback, "{operator_id}", name)
            params: dict[str, Any] = {"operator_id": OPERATOR}
            what = ("Feedback to one operator about its referrals (stream IM_FEEDBACK); "
                    "only that operator reads it, through its durable consumer fb_<id>.")
        elif source == subj.OPERATOR:
            address = _address(subj.operator_event, "{operator_id}", name)
            params, what = {"operator_id": OPERATOR}, (
                "An operator's own system publishes it (stream IM_OPS); counselling checks "
                "the subject's operator against `source` and the site against housing.")
        else:
            address, params = subj.event(source, name), {}
            what = f"Event (stream {subj.event_stream(source)})."
        if on_resident:
            address += ".{resident_id}"
            params["resident_id"] = RESIDENT
        by = f" Published by {', '.join(publishers)}." if publishers else ""
        msgs = {event_type(t).replace(".", "_"): self.message(event_type(t), t, headers=True)
                for t in types}
        ref = self.channel(_key(address), address, what + by, msgs, params)
        action = "receive" if source == subj.OPERATOR else "send"
        kind = {subj.FEEDBACK: "feedback", subj.OPERATOR: "operators"}.get(source, "events")
        said = next((d for d in map(_first_line, reversed(types)) if d), "")
        self.operation(f"{action}.{source}.{name}", action, ref,
                       (said or name.replace("_", " ").capitalize() + ".") + by, tags=[kind])

    def request(self, kind: str, address: str, key: str, request: Any, replies: list[Any],
                summary: str, description: str) -> None:
        ref = self.channel(_key(address), address, description,
                           {"request": self.message(f"{key}.request", request)})
        reply_key = _key(address) + ".reply"
        reply_msgs = {f"reply{i}": self.message(f"{key}.{r.__name__}", r)
                      for i, r in enumerate(replies)}
        self.channel(reply_key, None, "The request's own reply subject (an inbox of the "
                     "asking client).", reply_msgs)
        reply = {"channel": {"$ref": f"#/channels/{reply_key}"},
                 "messages": [{"$ref": f"#/channels/{reply_key}/messages/{m}"}
                              for m in reply_msgs]}
        self.operation(f"{kind}.{key}", "receive", ref, summary, reply, tags=[kind])


def _is_event(t: Any) -> bool:
    return isinstance(t, type) and issubclass(t, EventData)


def document(specs: Mapping[str, Any], topics: Iterable[str] = ()) -> dict[str, Any]:
    from im_runtime.privacy import effective

    full = {n: effective(s) for n, s in sorted(specs.items())}
    publishers: dict[tuple[str, str], dict[type[EventData], list[str]]] = {}
    for name, spec in full.items():
        for t in spec.publishes:
            publishers.setdefault(event_parts(t)[:2], {}).setdefault(t, []).append(name)
    for t in event_types().values():  # the operators' own events: published from outside
        if event_parts(t)[0] == subj.OPERATOR:
            publishers.setdefault(event_parts(t)[:2], {}).setdefault(t, [])
    requests = [(h.command, h.reply) for s in full.values() for h in s.commands]
    queries = [a.query for s in full.values() for a in s.queries]
    schemas = Schemas([*(t for by in publishers.values() for t in by), DeadLetter,
                       *(c for pair in requests for c in pair), *queries, ServiceSection,
                       ErrorReply])
    doc = Doc(schemas)
    for (source, name), by_type in sorted(publishers.items()):
        types = sorted(by_type, key=event_type)
        doc.events(source, name, types, sorted({p for t in types for p in by_type[t]}))
    for service, spec in full.items():
        for h in spec.commands:
            doc.request("commands", subj.command(service, h.name), f"{service}.{h.name}",
                        h.command, [h.reply, ErrorReply],
                        _first_line(h.command) or h.name,
                        f"Command `{h.name}` to {service} (request/reply; one instance "
                        "answers, queue group). Its `actor` counts only when the gateway "
                        "signed it.")
    answered: dict[str, tuple[Any, list[str]]] = {}
    for service, spec in full.items():
        for a in spec.queries:
            answered.setdefault(a.name, (a.query, []))[1].append(service)
    for qname, (query, services) in sorted(answered.items()):
        doc.request("queries", subj.query(qname), qname, query, [ServiceSection, ErrorReply],
                    _first_line(query) or qname,
                    f"Scatter-gather query: every service that answers it replies with its "
                    f"section (today: {', '.join(services)}); the asker collects until its "
                    f"deadline. `{subj.query(qname)}.<service>` asks one service only.")
    dlq = _address(subj.dead_letter, "{service}", "{resident_id}")
    ref = doc.channel(_key(dlq), dlq, "A message a service gave up on, with the reason "
                      "(stream IM_DLQ); `_` for messages about no resident.",
                      {"deadLetter": doc.message("DeadLetter", DeadLetter)},
                      {"service": {"enum": sorted(full)}, "resident_id": RESIDENT})
    doc.operation("send.dead_letter", "send", ref, "a dead letter", tags=["dead letters"])
    return {
        "asyncapi": "3.0.0",
        "info": {"title": "Integration management platform: the bus", "version": VERSION,
                 "description": _DESCRIPTION.format(
                     topics=", ".join(f"`{t}`" for t in sorted(set(topics))) or "none")},
        "defaultContentType": "application/json",
        "servers": SERVERS,
        "channels": doc.channels,
        "operations": doc.operations,
        "components": {
            "securitySchemes": {"natsUser": {
                "type": "userPassword",
                "description": "A NATS user and password per service, the gateway, each "
                               "operator (`operator-<id>`, in an account of its own) and "
                               "admin. Operators: see docs/operators.md."}},
            "messages": doc.messages,
            "schemas": schemas.components},
    }


_DESCRIPTION = """\
Every subject family of the platform's NATS bus, generated from the installed services'
specs by `im contracts asyncapi` (do not edit by hand). Events, operators' events and
feedback are CloudEvents 1.0 in structured JSON mode, published to JetStream with
`Nats-Msg-Id` = the event id. The event's type is the envelope's `type`; the platform does
not repeat it inside `data` (a `type` there is accepted when it is the same).
Commands and queries are NATS request/reply; a refusal is an
`ErrorReply` (`status` `error`). Referral topics the installed services declare: {topics}.
"""


def to_yaml(doc: dict[str, Any]) -> str:
    import yaml

    class _Dumper(yaml.SafeDumper):
        def ignore_aliases(self, data: Any) -> bool:  # every block spelled out
            return True

    return (f"# Generated by `im contracts asyncapi` from the installed services' specs; do "
            f"not edit by hand.\n{yaml.dump(doc, Dumper=_Dumper, sort_keys=False, width=100)}")


def write(out: Any, markdown: Any) -> tuple[str, str]:
    """(yaml, markdown) of the installed services' document, written to the two paths."""
    from im_cli.asyncapi_md import render
    from im_cli.commands import declared_topics
    from im_runtime.plugins import installed

    doc = document(installed(), declared_topics())
    text, md = to_yaml(doc), render(doc)
    if out is not None:
        out.write_text(text)
    if markdown is not None:
        markdown.write_text(md)
    return text, md
