"""`im run`, `im services`, `im contracts schema`."""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
from pathlib import Path
from typing import Any

import msgspec

from im_runtime import logs, tracing
from im_runtime.plugins import PluginError, installed, load
from im_runtime.settings import Settings, SettingsError


class CliError(Exception):
    pass


def _settings() -> Settings:
    try:
        return Settings.from_env()
    except SettingsError as exc:
        raise CliError(str(exc)) from exc


def admin_settings(settings: Settings, var: Path = Path("var")) -> Settings:
    """With no NATS user given, the embedded stack's admin from var/ (as `make run` made it)."""
    passwords = var / "nats" / "passwords.json"
    if settings.nats_user or settings.nats_creds or not passwords.exists():
        return settings
    import json
    from dataclasses import replace

    admin = json.loads(passwords.read_text()).get("admin")
    return replace(settings, nats_user="admin", nats_password=admin) if admin else settings


def run(args: argparse.Namespace) -> int:
    from im_runtime.service import ServiceRuntime

    settings = _settings()
    logs.setup(settings.log_level, settings.log_format)
    try:
        spec = load(args.service)
    except (PluginError, ImportError) as exc:
        raise CliError(str(exc)) from exc
    try:
        tracing.setup(spec.name, spec.version)
    except SettingsError as exc:
        raise CliError(str(exc)) from exc
    replicas = int(os.environ.get("IM_STREAM_REPLICAS", "1"))
    # Non-zero when the bus connection closed for good (the supervisor restarts it).
    return asyncio.run(ServiceRuntime(spec, settings, stream_replicas=replicas).run_forever())


def services(args: argparse.Namespace) -> int:
    from im_runtime.discovery import discover

    if getattr(args, "routes", False):
        return routes()

    settings = _settings()
    local = installed()
    try:
        live = asyncio.run(discover(settings, timeout=args.timeout))
    except Exception as exc:
        print(f"(bus not reachable at {settings.nats_url}: {exc or type(exc).__name__})",
              file=sys.stderr)
        live = {}
    names = sorted(set(local) | set(live))
    print(f"{'SERVICE':<16}{'INSTALLED':<12}{'RUNNING':<10}VERSIONS")
    for name in names:
        inst = live.get(name, [])
        versions = ",".join(sorted({i.version for i in inst}))
        print(f"{name:<16}{local[name].version if name in local else '-':<12}"
              f"{len(inst):<10}{versions}")
    return 0


def routes() -> int:
    """Every installed service's routes, as its runtime runs them (no bus needed)."""
    from im_runtime.routes import routes as of
    from im_runtime.routes import table

    print(table([r for _, spec in sorted(installed().items()) for r in of(spec)]))
    return 0


def declared_topics() -> list[str]:
    """The referral topics the installed services declare."""
    from im_runtime.plugins import installed

    return [t for s in installed().values() for t in s.referral_topics]


def message_schema(name: str, struct: Any, topics: list[str] | None = None) -> Any:
    """A message's JSON Schema; the operators' own (their events and feedback) list the
    referral topics (`topics`, else those the installed services declare)."""
    from contracts import subjects as subj
    from contracts.payloads import optional_data_type
    from contracts.referrals import with_topics

    found = optional_data_type(msgspec.json.schema(struct))
    if name.split(".")[1:2] not in ([subj.OPERATOR], [subj.FEEDBACK]):
        return found
    return with_topics(found, declared_topics() if topics is None else topics)


def schema(args: argparse.Namespace) -> int:
    from contracts.registry import all_messages

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    messages = all_messages()
    topics = declared_topics()  # the plugins are loaded once, not once per message
    for name, struct in messages.items():
        (out / f"{name}.json").write_bytes(msgspec.json.format(
            msgspec.json.encode(message_schema(name, struct, topics)), indent=2))
    print(f"wrote {len(messages)} schemas to {out}")
    return 0


def asyncapi(args: argparse.Namespace) -> int:
    from im_cli import asyncapi as gen

    out, md = Path(args.out), Path(args.markdown)
    if args.check:
        text, markdown = gen.write(None, None)
        stale = [str(p) for p, want in ((out, text), (md, markdown))
                 if not p.exists() or p.read_text() != want]
        if stale:
            raise CliError(f"out of date: {', '.join(stale)} (run `im contracts asyncapi`)")
        print(f"{out} and {md} are current")
        return 0
    gen.write(out, md)
    print(f"wrote {out} and {md}")
    return 0
