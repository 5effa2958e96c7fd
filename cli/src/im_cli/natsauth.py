"""NATS users and permissions, generated from the installed services' specs.

One account (`IM`, JetStream enabled) holds every user; what separates them is each
user's publish/subscribe permissions, which nats-server enforces:

- a **service** (`service-<name>`) publishes only its own events (`im.evt.<name>.>`), its
  dead letters (`im.dlq.<name>`), the feedback types it declares (`im.fb.*.<event>[.*]`),
  and exactly the JetStream API calls the runtime makes for *its* streams and durable
  consumers (`<name>__<source>`): stream info/create, consumer create/info, fetch
  (`CONSUMER.MSG.NEXT`) and acks (`$JS.ACK.<stream>.<durable>.>`). It subscribes to its
  own commands and queries, its `$SRV` (micro) subjects and `_INBOX.>` (replies, pub-acks,
  fetched messages: pull consumers deliver to an inbox, so no event subject is
  subscribed). Replies to commands, queries and `$SRV` requests are allowed through
  `allow_responses` (only to a reply subject it was sent), not a blanket `_INBOX.>`
  publish right.
- the **gateway** (`gateway`) publishes requests on `im.cmd.>`, `im.qry.>`, `$SRV.>` and
  subscribes to `_INBOX.>` for the answers. Nothing else.
- an **operator** (`operator-<id>`) publishes only `im.ops.<id>.>`. It reads its feedback
  through one JetStream consumer it may create itself, named `fb_<id>`, and only through
  the filtered create subject `$JS.API.CONSUMER.CREATE.IM_FEEDBACK.fb_<id>.im.fb.<id>.>`:
  the server refuses a create whose filter differs from the one in the subject, so the
  consumer can only ever see `im.fb.<id>.>`. It may fetch from, inspect and ack that
  consumer and nothing else (no stream listing, no other consumer, no direct get, no
  core subscription on `im.fb.>`). Its replies arrive on its own inbox prefix
  `_INBOX_<id>.>` (clients set it: nats-py `inbox_prefix=`, nats.go `CustomInboxPrefix`),
  so it cannot listen in on other users' replies under `_INBOX.>`.
- **admin** has every right (operations team, `im services`, provisioning).

There is no `no_auth_user`: an anonymous connection is refused.

`python -m im_cli.natsauth --env-refs --operator op-a ... > infra/nats/accounts.conf`
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
from dataclasses import dataclass, field
from pathlib import Path

from contracts import event_parts
from contracts import subjects as subj

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
    env: dict[str, str] = field(default_factory=dict)  # what a client of this user is told


def service_user(service: str) -> str:
    return f"service-{subj.token(service, 'service')}"


def operator_user(operator_id: str) -> str:
    return f"operator-{subj.token(operator_id, 'operator id')}"


def feedback_consumer(operator_id: str) -> str:
    """The one consumer on IM_FEEDBACK an operator may create and read."""
    return f"fb_{subj.token(operator_id, 'operator id')}"


def operator_inbox(operator_id: str) -> str:
    """The inbox prefix an operator's client must use (nats-py `inbox_prefix=`)."""
    return f"_INBOX_{subj.token(operator_id, 'operator id')}"


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
    name: str = spec.name  # type: ignore[attr-defined]
    publishes = [event_parts(t) for t in spec.publishes]  # type: ignore[attr-defined]
    own = [p for p in publishes if p[0] not in (subj.FEEDBACK, subj.OPERATOR)]
    fb_events = sorted({p[1] for p in publishes if p[0] == subj.FEEDBACK})
    pub: list[str] = []
    if own or publishes:
        pub.append(subj.events_of(name))
    pub.append(subj.dead_letter(name))
    for ev in fb_events:
        pub += [f"{subj.PREFIX}.fb.*.{ev}", f"{subj.PREFIX}.fb.*.{ev}.*"]
    # Streams it declares (service.py `_declare_streams`): info, then create if missing.
    streams = [subj.DLQ_STREAM]
    if publishes:
        streams.append(subj.event_stream(name))
    if fb_events:
        streams.append(subj.FEEDBACK_STREAM)
    sources = spec.source_streams()  # type: ignore[attr-defined]
    streams += [_stream_for(s) for s in sources]
    for stream in _uniq(streams):
        pub += [f"{JS_API}.STREAM.INFO.{stream}", f"{JS_API}.STREAM.CREATE.{stream}"]
    # Its durable pull consumers (pull.py): create-or-update, bind, fetch, ack; info (lag).
    for source in sources:
        stream, durable = _stream_for(source), f"{name}__{source}"
        pub += [
            f"{JS_API}.CONSUMER.DURABLE.CREATE.{stream}.{durable}",
            f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}",
            f"{JS_API}.CONSUMER.CREATE.{stream}.{durable}.>",
            f"{JS_API}.CONSUMER.INFO.{stream}.{durable}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{durable}",
            f"$JS.ACK.{stream}.{durable}.>",
        ]
    sub = [subj.command(name, c.name) for c in spec.commands]  # type: ignore[attr-defined]
    sub += [subj.query(q.name) for q in spec.queries]  # type: ignore[attr-defined]
    sub += ["$SRV.*", f"$SRV.*.{name}", f"$SRV.*.{name}.*", "_INBOX.>"]
    return Permissions(_uniq(pub), _uniq(sub), allow_responses=True)


def gateway_permissions() -> Permissions:
    return Permissions(publish=(f"{subj.PREFIX}.cmd.>", f"{subj.PREFIX}.qry.>", "$SRV.>"),
                       subscribe=("_INBOX.>",))


def operator_permissions(operator_id: str) -> Permissions:
    fb, inbox = feedback_consumer(operator_id), operator_inbox(operator_id)
    stream = subj.FEEDBACK_STREAM
    return Permissions(
        publish=(
            f"{subj.PREFIX}.ops.{operator_id}.>",
            # Only the filtered form: the server checks the body's filter against it.
            f"{JS_API}.CONSUMER.CREATE.{stream}.{fb}.{subj.feedback_of(operator_id)}",
            f"{JS_API}.CONSUMER.INFO.{stream}.{fb}",
            f"{JS_API}.CONSUMER.MSG.NEXT.{stream}.{fb}",
            f"$JS.ACK.{stream}.{fb}.>",
        ),
        subscribe=(f"{inbox}.>",),
    )


def users(specs: Mapping[str, object], operators: Iterable[str] = ()) -> list[User]:
    out = [User(ADMIN, Permissions(unrestricted=True)),
           User(GATEWAY, gateway_permissions())]
    out += [User(service_user(n), service_permissions(specs[n])) for n in sorted(specs)]
    for op in sorted(set(operators)):
        out.append(User(operator_user(op), operator_permissions(op),
                        env={"IM_NATS_INBOX_PREFIX": operator_inbox(op)}))
    return out


def _q(value: str) -> str:
    return json.dumps(value)  # a double-quoted string: `$` stays literal


def _list(items: Iterable[str], indent: str) -> str:
    return "[\n" + "".join(f"{indent}  {_q(i)},\n" for i in items) + f"{indent}]"


def render(users_: Iterable[User], passwords: Mapping[str, str] | None = None) -> str:
    """The `accounts` block. Passwords literal when given, else environment references
    (`$IM_NATS_PASSWORD_<USER>`, resolved by nats-server from its environment)."""
    lines = [
        "# Generated by `python -m im_cli.natsauth` from the installed services' specs;",
        "# do not edit by hand (tests/infra checks it is current). No no_auth_user: anonymous",
        "# connections are refused.",
        "accounts {",
        f"  {ACCOUNT} {{",
        "    jetstream: enabled",
        "    users: [",
    ]
    for user in users_:
        pw = _q(passwords[user.name]) if passwords is not None else "$" + password_env(user.name)
        lines.append(f"      {{user: {_q(user.name)}, password: {pw}")
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
    lines += ["    ]", "  }", "}", ""]
    return "\n".join(lines)


def _write_private(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.chmod(path, 0o600)  # also when it existed with wider rights


def ensure_passwords(path: Path, names: Iterable[str]) -> dict[str, str]:
    """Generated passwords, kept in `path` (JSON, 0600) across restarts; new users get one."""
    known: dict[str, str] = json.loads(path.read_text()) if path.exists() else {}
    wanted = list(names)
    changed = any(n not in known for n in wanted)
    for n in wanted:
        known.setdefault(n, secrets.token_urlsafe(24))
    if changed or path.stat().st_mode & 0o077:
        _write_private(path, json.dumps(known, indent=2, sort_keys=True) + "\n")
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

    def client_env(self, user: str) -> dict[str, str]:
        return {"IM_NATS_USER": user, "IM_NATS_PASSWORD": self.passwords[user]}


def embedded(workdir: Path, specs: Mapping[str, object],
             operators: Iterable[str] = ()) -> Embedded:
    """Users for the embedded stack: passwords in `<workdir>/passwords.json` (0600)."""
    all_users = users(specs, operators)
    pw = ensure_passwords(workdir / "passwords.json", [u.name for u in all_users])
    return Embedded(render(all_users, pw), pw)


def main(argv: list[str] | None = None) -> int:
    from im_runtime.plugins import installed

    p = argparse.ArgumentParser(prog="python -m im_cli.natsauth",
                                description="Write the NATS accounts/permissions include "
                                            "file for the installed services.")
    p.add_argument("--operator", action="append", default=[], metavar="ID",
                   help="an operator id (repeatable; also IM_OPERATORS=a,b)")
    p.add_argument("--env-refs", action="store_true",
                   help="passwords as $IM_NATS_PASSWORD_<USER> references (for containers)")
    p.add_argument("--list-env", action="store_true",
                   help="print the password variables the file expects, one a line")
    args = p.parse_args(argv)
    ops = [*args.operator, *operators_from_env()]
    all_users = users(installed(), ops)
    if args.list_env:
        print("\n".join(password_env(u.name) for u in all_users))
        return 0
    if not args.env_refs:
        p.error("literal passwords are only written by `im up` (under var/); use --env-refs")
    sys.stdout.write(render(all_users))
    return 0


if __name__ == "__main__":
    sys.exit(main())
