"""`im privacy report RESIDENT`, `im privacy export RESIDENT` and `im privacy retention`:
the proof of where data about one person exists (every service's database, every stream),
everything held about them (Art. 15 GDPR), and retention runs.

Each service (and the gateway) answers for its own database through the scatter-gather
queries the runtime gives every service; the streams are read here. A service that is
installed or known but does not answer is named, since a proof cannot speak for it."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import msgspec
import nats

from contracts import Actor, ErrorReply, ServiceSection, utcnow
from contracts import privacy as pv
from contracts import subjects as subj
from im_cli import erasures
from im_cli.commands import CliError, _settings, admin_settings
from im_cli.progress import Bar, bar
from im_runtime import actors, streams
from im_runtime.connection import servers

CLI_ACTOR = Actor(subject="im-cli", role="city_admin")
_REPLY = msgspec.json.Decoder(ServiceSection | ErrorReply)


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("privacy", help="where a resident's data is; retention runs; "
                                       "approving erasures")
    psub = p.add_subparsers(dest="privacy_cmd", required=True)
    rep = psub.add_parser("report", help="every place where data about a resident exists")
    rep.add_argument("resident", help="the resident's id")
    rep.add_argument("--also", action="append", default=[], metavar="TEXT",
                     help="another term to look for (e.g. the name); repeatable")
    rep.add_argument("--deep", action="store_true",
                     help="also read every message of every stream (slow on big streams)")
    rep.add_argument("--json", action="store_true", help="print the report as JSON")
    rep.add_argument("--timeout", type=float, default=2.0, metavar="SECONDS",
                     help="how long to wait for the services' answers (2)")
    rep.set_defaults(func=report_command)
    exp = psub.add_parser("export", help="everything every service holds about a resident "
                                         "(Art. 15 GDPR), as JSON or a readable page")
    exp.add_argument("resident", help="the resident's id")
    exp.add_argument("--html", action="store_true", help="a readable page instead of JSON")
    exp.add_argument("--lang", choices=("de", "en"), default="de", help="the page's language")
    exp.add_argument("--timeout", type=float, default=2.0, metavar="SECONDS",
                     help="how long to wait for the services' answers (2)")
    exp.set_defaults(func=export_command)
    ret = psub.add_parser("retention", help="list (default) or apply the retention rules")
    ret.add_argument("--apply", action="store_true", help="remove what is past its period")
    ret.add_argument("--as-of", type=datetime.fromisoformat, default=None,
                     help="the moment to apply the rules at (ISO, with time zone)")
    ret.add_argument("--timeout", type=float, default=5.0, metavar="SECONDS",
                     help="how long to wait for each service's answer (5)")
    ret.set_defaults(func=retention_command)
    erasures.add_parsers(psub)


@dataclass
class Report:
    terms: list[str]
    services: dict[str, dict[str, int]] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    silent: list[str] = field(default_factory=list)  # running but did not answer
    streams: dict[str, dict[str, int]] = field(default_factory=dict)  # stream -> subject -> n
    messages: dict[str, int] = field(default_factory=dict)  # --deep: stream -> messages

    @property
    def found(self) -> bool:
        return any(self.services.values()) or any(self.streams.values()) or any(
            self.messages.values())


async def ask_all(nc: Any, query: str, body: msgspec.Struct, timeout: float
                  ) -> tuple[dict[str, dict[str, Any]], dict[str, str], list[str]]:
    """Scatter-gather to every service: (sections, errors, running services silent)."""
    from im_runtime.discovery import gather, instances

    running = set(await instances(nc, timeout=min(timeout, 1.0)))
    replies = await gather(nc, subj.query(query), msgspec.json.encode(body), timeout)
    sections: dict[str, dict[str, Any]] = {}
    errors: dict[str, str] = {}
    for raw in replies:
        try:
            reply = _REPLY.decode(raw)
        except msgspec.DecodeError:
            continue
        if isinstance(reply, ErrorReply):
            errors[reply.details.get("service", "?")] = f"{reply.code}: {reply.message}"
        else:
            sections[reply.service] = reply.section
    silent = sorted(running - set(sections) - set(errors))
    return sections, errors, silent


_RUN = msgspec.json.Decoder(pv.RetentionRun | ErrorReply)


async def apply_all(nc: Any, as_of: datetime | None, actor: Actor, timeout: float,
                    secret: bytes | None = None
                    ) -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
    """Retention applied everywhere: the `retention` query (a read) says which services
    have rules; each of them then gets the command `apply_retention`, its actor signed
    with the gateway's key `secret` as the gateway signs commands (a service with an
    actor key refuses it unsigned, im_runtime.actors). (runs, errors)"""
    listed, errors, _ = await ask_all(nc, pv.RETENTION, pv.RunRetention(as_of=as_of,
                                                                        actor=actor), timeout)
    runs: dict[str, dict[str, Any]] = {}
    command = msgspec.json.encode(pv.ApplyRetention(as_of=as_of, actor=actor))
    for service in sorted(s for s, section in listed.items() if section.get("rules")):
        subject = subj.command(service, pv.APPLY_RETENTION)
        headers = actors.signed_headers(secret, service, subject, command) if secret else None
        try:
            msg = await nc.request(subject, command, timeout=timeout, headers=headers)
            reply = _RUN.decode(msg.data)
        except (TimeoutError, nats.errors.Error, msgspec.DecodeError) as exc:
            errors[service] = f"unavailable: {exc!r}"
            continue
        if isinstance(reply, ErrorReply):
            errors[service] = f"{reply.code}: {reply.message}"
        else:
            runs[service] = msgspec.to_builtins(reply)
    return runs, errors


async def subjects_about(js: Any, stream: str, resident_id: str) -> dict[str, int]:
    """Subjects of `stream` ending in the resident's id, with their message counts."""
    out: dict[str, int] = {}
    for flt in subj.purge_filters(resident_id):
        info = await js.stream_info(stream, subjects_filter=flt)
        out.update(info.state.subjects or {})
    return out


async def messages_mentioning(js: Any, stream: str, terms: list[str],
                              shown: Bar | None = None) -> int:
    """Read the whole stream (an ordered consumer) and count messages whose subject,
    headers or body mention any term; each message read advances `shown`."""
    info = await js.stream_info(stream)
    if not info.state.messages:
        return 0
    needles = [t.encode() for t in terms]
    found, seen, quiet = 0, 0, 0
    sub = await js.subscribe(">", stream=stream, ordered_consumer=True)
    try:
        while True:
            try:
                msg = await sub.next_msg(timeout=1)
            except nats.errors.TimeoutError:
                # Messages erased while we read (an erasure, the sweep, retention) may
                # leave nothing more to deliver: done once the stream holds nothing after
                # what we saw; otherwise wait on, a few times.
                if not await _any_after(js, stream, seen):
                    return found
                quiet += 1
                if quiet >= 5:
                    raise
                continue
            seen = msg.metadata.sequence.stream
            raw = msg.subject.encode() + json.dumps(msg.headers or {}).encode() + msg.data
            found += any(n in raw for n in needles)
            if shown is not None:
                shown.advance()
            # (the last sequence may be a purged message: count what is left instead)
            if msg.metadata.num_pending == 0:
                return found
    finally:
        await sub.unsubscribe()


async def _any_after(js: Any, stream: str, seq: int) -> bool:
    """Whether the stream holds a message after sequence `seq` (deleted ones do not count)."""
    reply = await js._nc.request(f"$JS.API.STREAM.MSG.GET.{stream}", json.dumps(
        {"next_by_subj": ">", "seq": seq + 1}).encode(), timeout=5)
    return "error" not in json.loads(reply.data)


async def build_report(nc: Any, resident_id: str, also: list[str], timeout: float = 2.0,
                       deep: bool = False) -> Report:
    terms = [resident_id, *also]
    rep = Report(terms=terms)
    sections, rep.errors, rep.silent = await ask_all(
        nc, pv.PRIVACY_REPORT, pv.GetPrivacyReport(terms=terms, actor=CLI_ACTOR), timeout)
    rep.services = {name: dict(s.get("collections", {})) for name, s in sections.items()}
    js = nc.jetstream()
    names = await streams.names(nc)
    for stream in names:
        rep.streams[stream] = await subjects_about(js, stream, resident_id)
    if deep:  # every message of every stream: the long part, on a progress bar
        total = sum([(await js.stream_info(s)).state.messages for s in names])
        with bar("reading every stream", total) as shown:
            for stream in names:
                shown.describe(f"reading {stream}")
                rep.messages[stream] = await messages_mentioning(js, stream, terms, shown)
            shown.describe("read every stream")
            shown.finish()
    return rep


def render(rep: Report) -> str:
    lines = [f"where data mentioning {', '.join(repr(t) for t in rep.terms)} exists:"]
    for name, found in sorted(rep.services.items()):
        where = ", ".join(f"{c} {n}" for c, n in sorted(found.items())) or "nothing"
        lines.append(f"  service {name:<14} {where}")
    for name, why in sorted(rep.errors.items()):
        lines.append(f"  service {name:<14} did not report: {why}")
    for name in rep.silent:
        lines.append(f"  service {name:<14} did not answer (its database is not covered)")
    for stream, subjects in sorted(rep.streams.items()):
        total = sum(subjects.values())
        deep = f"; {rep.messages[stream]} message(s) mention it" if stream in rep.messages else ""
        lines.append(f"  stream  {stream:<22} {total} message(s) on its subjects{deep}")
        for subject, n in sorted(subjects.items()):
            lines.append(f"          {subject}: {n}")
    lines.append("found: " + ("yes" if rep.found else "nothing"))
    return "\n".join(lines)


async def _connect() -> Any:
    settings = admin_settings(_settings())

    async def quiet(_: Exception) -> None:  # the failure is reported once, below
        return None

    try:
        return await asyncio.wait_for(nats.connect(
            servers(settings.nats_url), connect_timeout=2, allow_reconnect=False, error_cb=quiet,
            **settings.nats_options()), timeout=3)  # type: ignore[arg-type]
    except Exception as exc:
        why = str(exc) or type(exc).__name__
        raise CliError(f"the bus is not reachable at {settings.nats_url}: {why}") from None


def report_command(args: argparse.Namespace) -> int:
    try:
        subj.token(args.resident, "resident id")
    except subj.SubjectError as exc:
        raise CliError(str(exc)) from None

    async def go() -> Report:
        nc = await _connect()
        try:
            return await build_report(nc, args.resident, args.also, args.timeout, args.deep)
        finally:
            await nc.close()

    rep = asyncio.run(go())
    if args.json:
        print(json.dumps({"terms": rep.terms, "services": rep.services, "errors": rep.errors,
                          "silent": rep.silent, "streams": rep.streams,
                          "messages": rep.messages, "found": rep.found}, indent=2))
    else:
        print(render(rep))
    return 0


def retention_command(args: argparse.Namespace) -> int:
    if args.as_of is not None and args.as_of.tzinfo is None:
        raise CliError("--as-of needs a time zone, e.g. 2030-01-01T00:00:00+00:00")
    async def go() -> tuple[dict[str, dict[str, Any]], dict[str, str]]:
        nc = await _connect()
        try:
            if args.apply:
                from im_cli.demo.command import gateway_secret

                return await apply_all(nc, args.as_of, CLI_ACTOR, args.timeout,
                                       gateway_secret())
            listed, errors, _ = await ask_all(
                nc, pv.RETENTION, pv.RunRetention(as_of=args.as_of, actor=CLI_ACTOR),
                args.timeout)
            return listed, errors
        finally:
            await nc.close()

    sections, errors = asyncio.run(go())
    verb = "removed" if args.apply else "would remove"
    for name, section in sorted(sections.items()):
        for rule, r in sorted(section.get("rules", {}).items()):
            print(f"{name:<14} {rule:<28} {verb} {r['expired']:>6} of {r['collection']} "
                  f"(kept {r['days']} days)")
    for name, why in sorted(errors.items()):
        print(f"{name:<14} failed: {why}", file=sys.stderr)
    return 1 if errors else 0


async def build_export(nc: Any, resident_id: str, timeout: float = 2.0) -> dict[str, Any]:
    """The resident's data from every running service, as the gateway's export gives it
    (without the gateway's audit entries: ask `GET /api/v1/residents/{id}/export`)."""
    sections, errors, silent = await ask_all(
        nc, pv.RESIDENT_EXPORT, pv.GetResidentExport(resident_id=resident_id,
                                                     actor=CLI_ACTOR), timeout)
    return {"resident_id": resident_id, "generated_at": utcnow().isoformat(),
            "sections": {name: s for name, s in sections.items() if s},
            "missing": sorted({*errors, *silent})}


def export_command(args: argparse.Namespace) -> int:
    from gateway import export_html

    try:
        subj.token(args.resident, "resident id")
    except subj.SubjectError as exc:
        raise CliError(str(exc)) from None

    async def go() -> dict[str, Any]:
        nc = await _connect()
        try:
            return await build_export(nc, args.resident, args.timeout)
        finally:
            await nc.close()

    export = asyncio.run(go())
    if not export["sections"] and not export["missing"]:
        raise CliError(f"no running service holds data about {args.resident}")
    if export["missing"]:
        print(f"did not answer (their data is missing): {', '.join(export['missing'])}",
              file=sys.stderr)
    print(export_html.render(export, args.lang) if args.html
          else json.dumps(export, indent=2, ensure_ascii=False))
    return 1 if export["missing"] else 0
