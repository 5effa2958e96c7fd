"""NATS accounts, users and permissions, generated from the installed services' specs.

Accounts: `IM` (JetStream enabled) holds the platform's users; each operator has an
account of its own, `OP_<id>`. Within `IM` what separates users is each one's
publish/subscribe permissions, which nats-server enforces:

- a **service** (`service-<name>`) publishes only its own events (`im.evt.<name>.>`), its
  dead letters (`im.dlq.<name>`), the feedback types it declares (`im.fb.*.<event>[.*]`),
  and exactly the JetStream API calls the runtime makes for *its* streams and durable
  consumers (`<name>__<source>`): stream info/create, consumer create (a durable with
  one filter only, named in the subject; those with several the admin provisions)/info,
  fetch (`CONSUMER.MSG.NEXT`) and acks (`$JS.ACK.<stream>.<durable>.>`), and its
  durables' advisories on `IM_UNDELIVERED` (`<durable>_adv`). It subscribes to its own
  commands and queries, its `$SRV` (micro) subjects and its own inbox `_INBOX_<user>.>`
  (replies, pub-acks, fetched messages: pull consumers deliver to an inbox, so no event
  subject needs a subscription). Replies to commands, queries and `$SRV` requests go out through
  `allow_responses` (only to a reply subject it was sent), not a blanket publish right.
- the **gateway** (`gateway`) publishes requests on `im.cmd.>`, `im.qry.>`, `$SRV.>` and
  subscribes to `_INBOX.>` for the answers. Nothing else.
- an **operator** (`operator-<id>`, account `OP_<id>`) shares nothing with `IM` except
  what `IM` exports to that one account as services: `im.ops.<id>.>` (its events; the
  JetStream pub-ack is routed back) and the API of one durable pull consumer `fb_<id>`
  on `IM_FEEDBACK` (`CONSUMER.INFO`, `CONSUMER.MSG.NEXT` with streamed responses,
  `$JS.ACK.IM_FEEDBACK.fb_<id>.>`). The platform creates that consumer (`provision`,
  with the admin user) with the filter `im.fb.<id>.>`; the operator cannot create,
  change or delete consumers, so it reads only its own feedback. In its account
  `im.ops.<other>.…` reaches nothing, and its permissions allow publishing only
  `im.ops.<id>.>` and that consumer API (anything else: a permissions violation).
  Why an account and not only permissions: the reply subject of a fetch request is
  where the server delivers the fetched messages, and nats-server does not check reply
  subjects against permissions, so in a shared account an operator could have its
  feedback delivered onto `im.ops.<other>.…` without the right to publish there
  (measured: tests/infra); across an account boundary replies are mapped back into the
  requester's own account.
- **admin** (in `IM`) has every right: the operations team, `im services`, provisioning.

There is no `no_auth_user`: an anonymous connection is refused.

`python -m im_cli.natsauth render --env-refs --operator op-a ... > infra/nats/accounts.conf`
writes the include file for compose and Kubernetes, with passwords as nats-server
environment references (`$IM_NATS_PASSWORD_SERVICE_HOUSING`); `embedded()` writes the
same with generated passwords under `var/` (mode 0600) for `im up`.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import secrets
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from contracts import event_parts
from contracts import subjects as subj
from im_runtime.settings import Settings, inbox_prefix

ACCOUNT = "IM"
GATEWAY = "gateway"
ADMIN = "admin"
JS_API = "$JS.API"


@dataclass(frozen=True)
class Permissions:
    publish: tuple[str, ...] = ()
    subscribe: tuple[str, ...] = ()
    allow_responses: bool = False
    unrestricted: bool = False  # admin: no permissions block at all


@dataclass(frozen=True)
class User:
    name: str
    permissions: Permissions
    account: str = ACCOUNT


def service_user(service: str) -> str:
    return f"service-{subj.token(service, 'service')}"


def operator_user(operator_id: str) -> str:
    return f"operator-{subj.token(operator_id, 'operator id')}"


feedback_consumer = subj.feedback_consumer  # the one consumer an operator may read


def inbox(user: str) -> str:
    """What a user may subscribe to for replies: its own inboxes only, so no service
    receives another's replies, pub-acks or fetched messages (clients connect with
    `inbox_prefix`, im_runtime.settings)."""
    return f"{inbox_prefix(user)}.>"


def password_env(user: str) -> str:
    return "IM_NATS_PASSWORD_" + re.sub(r"[^A-Za-z0-9]", "_", user).upper()


def _uniq(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _stream_for(source: str) -> str:
    if source == subj.OPERATOR:
        return subj.OPS_STREAM
    if source == subj.FEEDBACK:
        return subj.FEEDBACK_STREAM
    return subj.event_stream(source)


def service_permissions(spec: object) -> Permissions:
    """From a `ServiceSpec`: what `im_runtime.service.ServiceRuntime` does on the bus."""
    from im_runtime.privacy import effective

    spec = effective(spec)  # type: ignore[arg-type]
    name: str = spec.name
    publishes = [event_parts(t) for t in spec.publishes]
    own = [p for p in publishes if p[0] == name]
    fb_events = sorted({p[1] for p in publishes if p[0] == subj.FEEDBACK})
    pub: list[str] = []
    if own:
        pub.append(subj.events_of(name))
    # Platform events every service may publish (confirmations of erasure, retention runs)
    # name one subject each, not the other service's whole namespace.
    for t in spec.publishes:
        source, event, _ = event_parts(t)
        if source not in (name, subj.FEEDBACK, subj.OPERATOR):
            pub += [subj.event(source, event), subj.event_filter(source, event)]
    pub += list(spec.bus_rights)
    pub.append(subj.dead_letters_of(name))
    pub.append(subj.sync(name))  # its instances' read models (mirror.py)
    for ev in fb_events:
        pub += [f"{subj.PREFIX}.fb.*.{ev}", f"{subj.PREFIX}.fb.*.{ev}.*"]
    # Streams it declares (service.py `_declare_streams`): it creates only its own; the
    # others it finds (`provision` creates them). Creating another's stream first, with
    # subjects of its choosing, would capture traffic it may not read (commands, replies).
    streams = [subj.DLQ_STREAM, *(_stream_for(p[0]) for p in publishes)]
    sources = spec.source_streams()  # type: ignore[attr-defined]
    streams += [_stream_for(s) for s in sources]
    for stream in _uniq(streams):
        pub.append(f"{JS_API}.STREAM.INFO.{stream}")
    if own:
        pub.append(f"{JS_API}.STREAM.CREATE.{subj.event_stream(name)}")
    # Its durable pull consumers (transport/): create-or-update with exactly its filter,
    # fetch, ack; info (lag). A single filter is part of the API subject, so the right is
    # for that filter only: a consumer re-pointed at other subjects would let the service
    # read them, and have them delivered (fetch replies are not checked) onto any subject.
    # Several filters travel in the body, which no permission checks: those durables the
    # admin provisions (`provision`), and the service may not create them at all.
    from im_runtime.streams import UNDELIVERED_STREAM
    from im_runtime.undelivered import advisory, reader, watcher
    from im_runtime.wiring import consumer_filters

    for source, types in sources.items():
        stream, durable = _stream_for(source), f"{name}__{source}"
        wanted = consumer_filters(spec, source, types)
        if len(wanted) == 1:
            pub.append(f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}.{wanted[0]}")
        pub += [
            f"{JS_API}.CONSUMER.INFO.{stream}.{durable}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.ACK.{stream}.{durable}.>",
        ]
        # A message JetStream stopped delivering to it, read by its sequence to be
        # dead-lettered (im_runtime.undelivered): through a consumer with one of the
        # durable's own filters (each named), so nothing it may not read already.
        dl = reader(durable)
        pub += [f"{JS_API}.CONSUMER.CREATE.{stream}.{dl}.{f}" for f in wanted]
        pub += [f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{dl}",
                f"{JS_API}.CONSUMER.DELETE.{stream}.{dl}"]
        # The advisories that say so, kept in IM_UNDELIVERED: its own durable's only.
        adv = watcher(durable)
        pub += [f"{JS_API}.CONSUMER.CREATE.{UNDELIVERED_STREAM}.{adv}."
                f"{advisory(stream, durable)}",
                f"{JS_API}.CONSUMER.MSG.NEXT.{UNDELIVERED_STREAM}.{adv}",
                f"$JS.ACK.{UNDELIVERED_STREAM}.{adv}.>"]
    if sources:
        pub.append(f"{JS_API}.STREAM.INFO.{UNDELIVERED_STREAM}")
    sub = [subj.command(name, c.name) for c in spec.commands]  # type: ignore[attr-defined]

    sub += [subj.query(q.name) for q in spec.queries]  # type: ignore[attr-defined]
    sub += [subj.query_for(q.name, name) for q in spec.queries]  # type: ignore[attr-defined]
    sub += ["$SRV.*", f"$SRV.*.{name}", f"$SRV.*.{name}.*", inbox(service_user(name)),
            subj.sync(name)]
    # Erasure requests as they go out (privacy.ErasedKeys): late events about them drop.
    sub.append(subj.event("privacy", "erasure_requested") + ".*")
    return Permissions(_uniq(pub), _uniq(sub), allow_responses=True)


def gateway_permissions() -> Permissions:
    """Requests to services; and its own part in data protection (erasures.py): it learns
    of erasure requests, answers the privacy queries and announces its retention runs."""
    from contracts import privacy as pv

    return Permissions(
        publish=(f"{subj.PREFIX}.cmd.>", f"{subj.PREFIX}.qry.>", "$SRV.>",
                 subj.event(pv.SERVICE, "retention_applied"),
                 # staff accounts that retention removed leave the log (staff_erasure.py)
                 subj.event(pv.SERVICE, "resident_expired") + ".*"),
        subscribe=(inbox(GATEWAY), subj.event(pv.SERVICE, "erasure_requested") + ".*",
                   subj.query(pv.PRIVACY_REPORT), subj.query(pv.RETENTION),
                   subj.command("gateway", pv.APPLY_RETENTION)),
        allow_responses=True)


# What one operator's account may hold at once: a case system needs a few connections and
# subscriptions; no event of theirs is larger than counselling takes (64 KiB).
OPERATOR_LIMITS = {"max_connections": 16, "max_subscriptions": 256, "max_payload": 64 * 1024}


def operator_account(operator_id: str) -> str:
    return f"OP_{subj.token(operator_id, 'operator id')}"


def operator_exports(operator_id: str) -> list[tuple[str, bool]]:
    """(subject, streamed responses) that `IM` exports to this operator's account only."""
    fb, stream = feedback_consumer(operator_id), subj.FEEDBACK_STREAM
    return [
        (f"{subj.PREFIX}.ops.{operator_id}.>", False),
        (f"{JS_API}.CONSUMER.INFO.{stream}.{fb}", False),
        (f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{fb}", True),
        (f"$JS.ACK.{stream}.{fb}.>", False),
    ]


def operator_permissions(operator_id: str) -> Permissions:
    return Permissions(publish=tuple(s for s, _ in operator_exports(operator_id)),
                       subscribe=(inbox(operator_user(operator_id)),))


def users(specs: Mapping[str, object], operators: Iterable[str] = ()) -> list[User]:
    out = [User(ADMIN, Permissions(unrestricted=True)),
           User(GATEWAY, gateway_permissions())]
    out += [User(service_user(n), service_permissions(specs[n])) for n in sorted(specs)]
    for op in sorted(set(operators)):
        out.append(User(operator_user(op), operator_permissions(op), account=operator_account(op)))
    return out


def _q(value: str) -> str:
    return json.dumps(value)  # a double-quoted string: `$` stays literal


def _list(items: Iterable[str], indent: str) -> str:
    return "[\n" + "".join(f"{indent}  {_q(i)},\n" for i in items) + f"{indent}]"


def _render_user(user: User, passwords: Mapping[str, str] | None) -> list[str]:
    pw = _q(passwords[user.name]) if passwords is not None else "$" + password_env(user.name)
    lines = [f"      {{user: {_q(user.name)}, password: {pw}"]
    p = user.permissions
    if not p.unrestricted:
        ind = "          "
        lines.append("        permissions: {")
        lines.append(f"          publish: {{allow: {_list(p.publish, ind)}}}")
        lines.append(f"          subscribe: {{allow: {_list(p.subscribe, ind)}}}")
        if p.allow_responses:
            lines.append("          allow_responses: true")
        lines.append("        }")
    lines.append("      }")
    return lines


def render(users_: Iterable[User], passwords: Mapping[str, str] | None = None) -> str:
    """The `accounts` block. Passwords literal when given, else environment references
    (`$IM_NATS_PASSWORD_<USER>`, resolved by nats-server from its environment)."""
    all_users = list(users_)
    operators = [u for u in all_users if u.account != ACCOUNT]
    lines = [
        "# Generated by `python -m im_cli.natsauth` from the installed services' specs;",
        "# do not edit by hand (tests/infra checks it is current). There is no",
        "# no_auth_user, so anonymous connections are refused.",
        "accounts {",
        f"  {ACCOUNT} {{",
        "    jetstream: enabled",
        "    users: [",
    ]
    for user in all_users:
        if user.account == ACCOUNT:
            lines += _render_user(user, passwords)
    lines.append("    ]")
    if operators:
        lines.append("    exports: [")
        for u in operators:
            op = u.name.removeprefix("operator-")
            for subject, streamed in operator_exports(op):
                rt = ", response_type: stream" if streamed else ""
                lines.append(f"      {{service: {_q(subject)}{rt}, accounts: [{_q(u.account)}]}}")
        lines.append("    ]")
    lines.append("  }")
    for u in operators:
        op = u.name.removeprefix("operator-")
        lines += [f"  {_q(u.account)} {{", "    users: ["]
        lines += _render_user(u, passwords)
        lines += ["    ]", "    imports: ["]
        for subject, _ in operator_exports(op):
            lines.append(f"      {{service: {{account: {ACCOUNT}, subject: {_q(subject)}}}}}")
        limits = ", ".join(f"{k}: {v}" for k, v in OPERATOR_LIMITS.items())
        lines += ["    ]", f"    limits: {{{limits}}}", "  }"]
    lines += ["}", ""]
    return "\n".join(lines)


def write_private(path: Path, text: str) -> None:
    """A new file, 0600 from its first byte, put in place of the old one: never a moment
    when the secrets are readable by others (not even when the old file was)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(f".{path.name}.{secrets.token_hex(4)}")
    fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(fresh, path)


def ensure_passwords(path: Path, names: Iterable[str]) -> dict[str, str]:
    """Generated passwords, kept in `path` (JSON, 0600) across restarts; new users get one."""
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = list(names)
    changed = any(n not in known for n in wanted)
    for n in wanted:
        known.setdefault(n, secrets.token_urlsafe(24))
    if changed or path.stat().st_mode & 0o077:
        write_private(path, json.dumps(known, indent=2, sort_keys=True) + "\n")
    return {n: known[n] for n in wanted}


def operators_from_env(env: Mapping[str, str] | None = None) -> list[str]:
    env = os.environ if env is None else env
    raw = env.get("IM_OPERATORS", "")
    return [subj.token(o.strip(), "operator id") for o in raw.split(",") if o.strip()]


@dataclass(frozen=True)
class Embedded:
    """What `im up` needs: the config to include and each user's password."""

    config: str
    passwords: dict[str, str]
    operators: tuple[str, ...] = ()

    def client_env(self, user: str) -> dict[str, str]:
        return {"IM_NATS_USER": user, "IM_NATS_PASSWORD": self.passwords[user]}


# Operators added with `im operators add` (im_cli/operators.py): id -> bcrypt hash of the
# password, which nats-server checks itself; the password is kept nowhere.
OPERATOR_HASHES = "operators.json"


def added_operators(workdir: Path) -> dict[str, str]:
    path = workdir / OPERATOR_HASHES
    found: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    return found


def embedded(workdir: Path, specs: Mapping[str, object],
             operators: Iterable[str] = ()) -> Embedded:
    """Users for the embedded stack: passwords in `<workdir>/passwords.json` (0600), but
    for the operators added with `im operators add` (a hash in `operators.json`)."""
    added = {operator_user(op): h for op, h in added_operators(workdir).items()}
    ops = tuple(sorted({*operators, *added_operators(workdir)}))
    all_users = users(specs, ops)
    pw = ensure_passwords(workdir / "passwords.json",
                          [u.name for u in all_users if u.name not in added])
    return Embedded(render(all_users, {**pw, **added}), pw, ops)


def stream_configs(specs: Mapping[str, object], replicas: int = 1,
                   duplicate_window: float = 600.0) -> list[object]:
    """Every stream the services use: the dead letters, the operators' and feedback
    streams, and each service's own and source streams (a service creates only its own)."""
    from im_runtime import log_retention, streams
    from im_runtime.privacy import effective

    sources = {subj.OPERATOR, subj.FEEDBACK}
    for spec in specs.values():
        full = effective(spec)  # type: ignore[arg-type]
        sources |= {event_parts(t)[0] for t in full.publishes} | set(full.source_streams())
    days = log_retention.stream_days(specs.values())  # type: ignore[arg-type]
    return [log_retention.with_max_age(config, days) for config in (
        streams.dlq_stream(replicas), streams.undelivered_stream(replicas),
        *(streams.for_source(s, replicas, duplicate_window) for s in sorted(sources)))]


def unpinned_durables(specs: Mapping[str, object], settings: Settings, replicas: int = 1
                      ) -> list[tuple[str, object]]:
    """(stream, config) of each durable with several filters, which no permission can pin
    and no service may therefore create (im_runtime.durables): the admin does, with the
    configuration the service's runtime would give it (`settings`: ack_wait, max_deliver,
    batch size)."""
    from im_runtime import streams
    from im_runtime.privacy import effective
    from im_runtime.wiring import durable_config, pinned

    out: list[tuple[str, object]] = []
    for name in sorted(specs):
        full = effective(specs[name])  # type: ignore[arg-type]
        for source, types in full.source_streams().items():
            config = durable_config(full, source, types, settings)
            if not pinned(config):
                stream = streams.for_source(source, replicas, settings.duplicate_window)
                out.append((stream.name or "", config))
    return out


async def provision(nc: object, operators: Iterable[str], replicas: int = 1,
                    duplicate_window: float = 600.0,
                    specs: Mapping[str, object] | None = None,
                    settings: Settings | None = None) -> None:
    """With the admin user: every stream of the installed services (`specs`, default
    all installed), their durables with several filters (`unpinned_durables`) and one
    durable pull consumer `fb_<id>` per operator, filtered to `im.fb.<id>.>`."""
    from nats.js.api import AckPolicy, ConsumerConfig

    from im_runtime import log_retention, streams
    from im_runtime.plugins import installed

    js = nc.jetstream()  # type: ignore[attr-defined]
    for config in stream_configs(installed() if specs is None else specs, replicas,
                                 duplicate_window):
        await streams.ensure(js, config)  # type: ignore[arg-type]
    # Streams created before they had limits get them (the stream's size, what a message
    # may weigh, refusing new messages when full), and their retention period (max_age),
    # also when the rules it is derived from changed.
    for config in stream_configs(installed() if specs is None else specs, replicas,
                                 duplicate_window):
        await streams.bound(js, config)  # type: ignore[arg-type]
        days = round(config.max_age / log_retention.DAY)  # type: ignore[attr-defined]
        await log_retention.keep_for(js, config.name, days)  # type: ignore[attr-defined]
    for stream, durable in unpinned_durables(installed() if specs is None else specs,
                                             settings or Settings.from_env(), replicas):
        await js.add_consumer(stream, durable)
    for op in operators:
        await js.add_consumer(subj.FEEDBACK_STREAM, ConsumerConfig(
            durable_name=feedback_consumer(op), filter_subject=subj.feedback_of(op),
            ack_policy=AckPolicy.EXPLICIT))


async def _provision_main(operators: list[str]) -> None:
    import nats

    from im_runtime.connection import servers

    s = Settings.from_env()
    nc = await nats.connect(servers(s.nats_url), **s.nats_options())  # type: ignore[arg-type]
    try:
        await provision(nc, operators, int(os.environ.get("IM_STREAM_REPLICAS", "1")),
                        s.duplicate_window, settings=s)
    finally:
        await nc.close()


def main(argv: list[str] | None = None) -> int:
    from im_runtime.plugins import installed

    p = argparse.ArgumentParser(prog="python -m im_cli.natsauth",
                                description="NATS accounts and permissions of the platform.")
    p.add_argument("action", choices=["render", "list-env", "provision"],
                   help="render: the accounts include file (--env-refs); list-env: the "
                        "password variables it expects; provision: create the streams, the "
                        "durables with several filters and the operators' feedback "
                        "consumers (as admin: IM_NATS_URL/USER/PASSWORD)")
    p.add_argument("--operator", action="append", default=[], metavar="ID",
                   help="an operator id (repeatable; also IM_OPERATORS=a,b)")
    p.add_argument("--env-refs", action="store_true",
                   help="passwords as $IM_NATS_PASSWORD_<USER> references (for containers)")
    args = p.parse_args(argv)
    ops = sorted({*args.operator, *operators_from_env()})
    if args.action == "provision":
        import asyncio

        asyncio.run(_provision_main(ops))
        return 0
    all_users = users(installed(), ops)
    if args.action == "list-env":
        print("\n".join(password_env(u.name) for u in all_users))
        return 0
    if not args.env_refs:
        p.error("literal passwords are only written by `im up` (under var/); use --env-refs")
    sys.stdout.write(render(all_users))
    return 0


if __name__ == "__main__":
    sys.exit(main())
