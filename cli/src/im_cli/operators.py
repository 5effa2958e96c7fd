"""`im operators add ID`, `im operators list`: onboarding an operator's own system.

On the embedded stack (`make run`, its `--var`): the operator gets a NATS user
`operator-<id>` in an account of its own (`natsauth`), kept in `var/nats/operators.json`
as a bcrypt hash only (nats-server checks bcrypt passwords itself), so its password is
printed once and kept nowhere on the platform. The NATS configuration is written again,
nats-server reloads it (SIGHUP), the admin user creates the operator's feedback consumer
`fb_<id>`, and the credentials are printed. `im up` includes these operators at every start.

For compose and Kubernetes (`--for compose|kubernetes`) it makes a password and prints the
steps: the operator in infra/nats/operators.txt, the generated files, the secret, a reload
and the feedback consumer."""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import secrets
import signal
from pathlib import Path
from typing import Any

from contracts import subjects as subj
from im_cli import natsauth
from im_cli.commands import CliError


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    ops = sub.add_parser("operators", help="operators' systems on the bus: add, list",
                         description="Onboard a shelter operator's own system: a NATS user "
                                     "and account, and its feedback consumer.")
    osub = ops.add_subparsers(dest="operators_cmd", required=True)
    add = osub.add_parser("add", help="add an operator and print its credentials once")
    add.add_argument("operator", metavar="ID",
                     help="the operator's id ([A-Za-z0-9_-], 1-64): its CloudEvents' source")
    add.add_argument("--var", type=Path, default=Path("var"),
                     help="the embedded stack's data directory (default ./var)")
    add.add_argument("--for", dest="target", choices=["embedded", "compose", "kubernetes"],
                     default="embedded",
                     help="where the platform runs: embedded (default) adds it to the "
                          "running stack; compose and kubernetes print the steps")
    add.set_defaults(func=run_add)
    lst = osub.add_parser("list", help="the operators the embedded stack's NATS knows")
    lst.add_argument("--var", type=Path, default=Path("var"),
                     help="the embedded stack's data directory (default ./var)")
    lst.set_defaults(func=run_list)


def configured(conf: str) -> list[str]:
    """The operators a rendered NATS configuration has an account for."""
    return sorted(re.findall(r'^  "OP_([A-Za-z0-9_-]+)" \{$', conf, re.M))


def _hash(password: str) -> str:
    import bcrypt

    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(rounds=11, prefix=b"2a")).decode()


def _conf(nats_dir: Path) -> tuple[str, int]:
    path = nats_dir / "nats-server.conf"
    if not path.exists():
        raise CliError(f"no embedded stack under {nats_dir.parent} (start it with `make run`, "
                       "or give --var, or --for compose|kubernetes)")
    text = path.read_text()
    if "accounts {" not in text:
        raise CliError("the embedded NATS runs without users (im up --no-nats-auth): "
                       "operators need it with users")
    port = re.search(r"^port: (\d+)$", text, re.M)
    if not port:
        raise CliError(f"{path} names no port")
    return text, int(port.group(1))


def _running_pid(nats_dir: Path) -> int | None:
    pid_file = nats_dir / "nats-server.pid"
    try:
        pid = int(pid_file.read_text().strip())
        os.kill(pid, 0)
    except (OSError, ValueError):
        return None
    return pid


def add_embedded(var: Path, operator: str) -> str:
    """Adds the operator; returns what to print (its password among it, once)."""
    from im_cli.embedded import NatsServer
    from im_runtime.plugins import installed

    nats_dir = var.resolve() / "nats"
    conf, port = _conf(nats_dir)
    known = set(configured(conf)) | set(natsauth.added_operators(nats_dir))
    if operator in known:
        raise CliError(f"operator {operator!r} exists already (its password was shown when "
                       "it was added); nothing changed")
    password = secrets.token_urlsafe(24)
    hashes = {**natsauth.added_operators(nats_dir), operator: _hash(password)}
    natsauth.write_private(nats_dir / natsauth.OPERATOR_HASHES,
                           json.dumps(hashes, indent=2, sort_keys=True) + "\n")
    auth = natsauth.embedded(nats_dir, installed(), configured(conf))
    NatsServer(port=port, workdir=nats_dir, config_extra=auth.config).write_config()
    url = f"nats://127.0.0.1:{port}"
    pid = _running_pid(nats_dir)
    if pid is None:
        state = "NATS is not running: the operator is there from the next `make run` on."
    else:
        os.kill(pid, signal.SIGHUP)  # nats-server reloads its configuration
        asyncio.run(_ready(url, operator, password, auth.passwords[natsauth.ADMIN], pid))
        state = f"NATS reloaded; feedback consumer {natsauth.feedback_consumer(operator)} made."
    return credentials(operator, password, url, state)


async def _ready(url: str, operator: str, password: str, admin_password: str,
                 pid: int) -> None:
    """Until the reloaded server takes the new user and routes its two exports (its events
    to IM_OPS, fetches from its feedback consumer); then its feedback consumer."""
    import nats

    admin = await nats.connect(url, user=natsauth.ADMIN, password=admin_password)
    try:
        await _provision(admin, operator)
    finally:
        await admin.close()
    user = natsauth.operator_user(operator)
    why = "no answer"
    for _ in range(30):
        try:
            nc = await asyncio.wait_for(nats.connect(
                url, user=user, password=password, allow_reconnect=False,
                max_reconnect_attempts=0, inbox_prefix=natsauth.inbox(user)[:-2]), 5)
        except Exception as exc:  # the first reload has not taken the user yet
            why = f"{exc or type(exc).__name__}"
            await asyncio.sleep(0.3)
            continue
        try:
            why = await _routed(nc, operator)
        finally:
            await nc.close()
        if not why:
            return
        # nats-server 2.15 adds a new account's imports on a reload but wires the
        # exporting account to them only on the next one (tried: a second SIGHUP fixes it).
        os.kill(pid, signal.SIGHUP)
        await asyncio.sleep(0.5)
    raise CliError(f"NATS did not take operator {operator} after the reload: {why}")


async def _provision(admin: Any, operator: str, attempts: int = 40) -> None:
    """Provisioning repeated while the reloading server's JetStream API answers no one:
    for a moment after a SIGHUP (longer on a loaded machine) a JetStream request meets
    "no responders". Every step of `provision` is idempotent, so a repeat is safe."""
    from nats.errors import NoRespondersError
    from nats.errors import TimeoutError as NatsTimeout
    from nats.js.errors import ServiceUnavailableError

    for attempt in range(attempts):
        try:
            await natsauth.provision(admin, [operator])
            return
        except (NoRespondersError, NatsTimeout, ServiceUnavailableError):
            if attempt == attempts - 1:
                raise
            await asyncio.sleep(0.25)


async def _routed(nc: Any, operator: str) -> str:
    """'' when both exports reach the platform's account, else what did not. Neither
    probe stores anything: the publish expects a stream that does not exist, so IM_OPS
    answers with an error; the fetch asks for what is pending and gets 'no messages'."""
    from nats.errors import NoRespondersError
    from nats.errors import TimeoutError as NatsTimeout
    from nats.js.errors import APIError, NoStreamResponseError

    try:
        await nc.jetstream().publish(f"{subj.PREFIX}.ops.{operator}.probe", b"",
                                     headers={"Nats-Expected-Stream": "IM_NO_SUCH_STREAM"},
                                     timeout=1)
        return "a probe was stored"  # not expected: the stream checks the header
    except APIError:
        pass  # IM_OPS answered
    except (NoStreamResponseError, NoRespondersError, NatsTimeout, TimeoutError):
        return f"its events do not reach {subj.OPS_STREAM}"
    fb = natsauth.feedback_consumer(operator)
    try:
        await nc.request(f"{natsauth.JS_API}.CONSUMER.MSG.NEXT.{subj.FEEDBACK_STREAM}.{fb}",
                         b'{"batch": 1, "no_wait": true}', timeout=1)
    except (NoRespondersError, NatsTimeout, TimeoutError):
        return f"its feedback consumer {fb} does not answer"
    return ""


def credentials(operator: str, password: str, url: str, state: str) -> str:
    user = natsauth.operator_user(operator)
    return "\n".join([
        f"operator {operator} added. {state}",
        f"  NATS URL         {url}",
        f"  user             {user}",
        f"  password         {password}",
        "                   (shown this once: the platform keeps only a hash of it)",
        f"  inbox prefix     {natsauth.inbox(user)[:-2]}   (connect with it)",
        f"  publishes on     {subj.PREFIX}.ops.{operator}.<event>[.<resident_id>]  "
        f"(stream {subj.OPS_STREAM})",
        f"  reads feedback   durable consumer {natsauth.feedback_consumer(operator)} on "
        f"{subj.FEEDBACK_STREAM}",
        "For the operator's developers (docs/operators.md, examples/operator-node/):",
        f"  export IM_NATS_URL={url} IM_NATS_USER={user} IM_NATS_PASSWORD={password} "
        f"IM_OPERATOR={operator}",
    ])


def steps(operator: str, password: str, target: str) -> str:
    """What the operations team does where the platform runs from infra/."""
    var = natsauth.password_env(natsauth.operator_user(operator))
    common = [f"operator {operator}: password {password}",
              "(shown this once; keep it only in the secret below and hand it to the "
              "operator privately)", "",
              f"1. echo {operator} >> infra/nats/operators.txt && uv run python "
              "infra/generate.py",
              "   (its account, user and exports in infra/nats/accounts.conf; commit)"]
    if target == "compose":
        return "\n".join([*common,
                          f"2. add to .env:  {var}={password}",
                          "3. docker compose up -d nats1 nats2 nats3   (the new accounts)",
                          "4. its feedback consumer, as admin:",
                          "   docker compose run --rm --no-deps -e IM_NATS_USER=admin "
                          "-e IM_NATS_PASSWORD=\"$IM_NATS_PASSWORD_ADMIN\" gateway "
                          f"python -m im_cli.natsauth provision --operator {operator}"])
    return "\n".join([*common,
                      f"2. kubectl patch secret im-nats-users --type merge -p "
                      f"'{{\"stringData\": {{\"{var}\": \"{password}\"}}}}'",
                      "3. apply the regenerated accounts (infra/k8s, docs/scaling.md) and "
                      "restart NATS: kubectl rollout restart statefulset/nats",
                      "4. its feedback consumer, as admin (IM_NATS_USER=admin):",
                      "   kubectl exec deploy/gateway -- python -m im_cli.natsauth provision "
                      f"--operator {operator}"])


def run_add(args: argparse.Namespace) -> int:
    try:
        operator = subj.token(args.operator, "operator id")
    except subj.SubjectError as exc:
        raise CliError(str(exc)) from None
    if args.target == "embedded":
        print(add_embedded(args.var, operator))
    else:
        print(steps(operator, secrets.token_urlsafe(24), args.target))
    return 0


def run_list(args: argparse.Namespace) -> int:
    nats_dir = args.var.resolve() / "nats"
    conf, _ = _conf(nats_dir)
    added = natsauth.added_operators(nats_dir)
    for op in sorted(set(configured(conf)) | set(added)):
        how = "im operators add" if op in added else "IM_OPERATORS"
        print(f"{op:<32}{natsauth.feedback_consumer(op):<36}{how}")
    return 0
