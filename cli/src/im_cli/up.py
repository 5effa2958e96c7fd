"""`im up`: the embedded stack on one machine.

A real nats-server (JetStream) and nx-27017 (MongoDB wire protocol), then every
installed service and the gateway, all supervised child processes: one that exits or is
killed is reaped and started again (the servers on the same store, within a second or
so; the services wait for them meanwhile). Data and logs under `--var`. Ctrl-C or
SIGTERM stops the services, then the gateway, then the servers."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

from im_cli.commands import CliError
from im_cli.embedded import (
    MongoWireServer,
    NatsServer,
    PortInUse,
    Server,
    ServerFailed,
    check_free,
    env_with,
    port_open,
)
from im_cli.firstadmin import FIRST_ADMIN, first_admin
from im_cli.supervisor import Backoff, Supervisor

if TYPE_CHECKING:
    from im_cli import natsauth

HOST = "127.0.0.1"
DEFAULT_PORTS = {"nats": 4222, "mongo": 27017, "gateway": 8000}
PORT_ENV = {"nats": "IM_NATS_PORT", "mongo": "IM_MONGO_PORT", "gateway": "IM_GATEWAY_PORT"}
PORT_WHAT = {"nats": "NATS", "mongo": "MongoDB-wire server", "gateway": "gateway HTTP"}


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    up = sub.add_parser(
        "up", help="start the embedded stack",
        description="Start NATS (JetStream), the MongoDB-wire server, every installed "
                    "service and the gateway; data and logs under --var. Ctrl-C stops it.")
    up.add_argument("--var", type=Path, default=Path("var"),
                    help="directory for data and logs (default ./var)")
    for key, flag in (("nats", "--nats-port"), ("mongo", "--mongo-port"),
                      ("gateway", "--gateway-port")):
        up.add_argument(flag, type=int, default=None, metavar="PORT",
                        help=f"{PORT_WHAT[key]} port (env {PORT_ENV[key]}, "
                             f"default {DEFAULT_PORTS[key]})")
    up.add_argument("--scale", action="append", default=[], metavar="NAME=N",
                    help="run N instances of service NAME (repeatable)")
    up.add_argument("--only", action="append", default=[], metavar="NAME",
                    help="start only these services (repeatable)")
    up.add_argument("--no-services", action="store_true",
                    help="run only the servers and the gateway")
    up.add_argument("--no-nats-auth", dest="nats_auth", action="store_false",
                    help="run NATS without users and permissions (default: each service, "
                         "the gateway and each operator in IM_OPERATORS get their own user; "
                         "passwords in VAR/nats/passwords.json)")
    up.set_defaults(func=run)


@dataclass
class Plan:
    var: Path
    ports: dict[str, int]
    services: list[tuple[str, int]] = field(default_factory=list)  # (name, instances)

    @property
    def logs(self) -> Path:
        return self.var / "logs"

    @property
    def key_file(self) -> Path:
        """The gateway's token signing key; `im token` finds it at the same place."""
        return self.var / "gateway.key"

    @property
    def erasure_secret_file(self) -> Path:
        """The secret erasure keys are made with, the same for every process."""
        return self.var / "erasure.key"


def _port(key: str, given: int | None, env: Mapping[str, str]) -> int:
    if given is not None:
        value, source = given, f"--{key}-port"
    elif env.get(PORT_ENV[key]):
        raw, source = env[PORT_ENV[key]], PORT_ENV[key]
        try:
            value = int(raw)
        except ValueError:
            raise CliError(f"{source} must be a port number, got {raw!r}") from None
    else:
        return DEFAULT_PORTS[key]
    if not 1 <= value <= 65535:
        raise CliError(f"{source} must be between 1 and 65535, got {value}")
    return value


def make_plan(args: argparse.Namespace, installed: Mapping[str, object],
              env: Mapping[str, str] | None = None) -> Plan:
    env = os.environ if env is None else env
    ports = {key: _port(key, getattr(args, f"{key}_port"), env) for key in DEFAULT_PORTS}
    seen: dict[int, str] = {}
    for key, port in ports.items():
        if port in seen:
            raise CliError(f"the {PORT_WHAT[seen[port]]} and the {PORT_WHAT[key]} cannot both "
                           f"use port {port}")
        seen[port] = key
    known = ", ".join(sorted(installed)) or "none"
    scale: dict[str, int] = {}
    for item in args.scale:
        name, sep, count = item.partition("=")
        if not sep or not count.strip().isdigit():
            raise CliError(f"--scale takes NAME=N with N a whole number, got {item!r}")
        if name not in installed:
            raise CliError(f"--scale {item}: no service named {name!r} is installed "
                           f"(installed: {known})")
        scale[name] = int(count)
    for name in args.only:
        if name not in installed:
            raise CliError(f"--only {name}: no such service is installed (installed: {known})")
    if args.no_services:
        names: list[str] = []
    else:
        names = sorted(set(args.only) if args.only else set(installed))
    return Plan(var=args.var.resolve(), ports=ports,
                services=[(n, scale.get(n, 1)) for n in names if scale.get(n, 1) > 0])


async def http_status(port: int, path: str, host: str = HOST, timeout: float = 2.0) -> int | None:
    """The status code of a plain GET, or None when nothing answers."""
    try:
        reader, writer = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
    except (OSError, TimeoutError):
        return None
    try:
        writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                     f"Connection: close\r\n\r\n".encode())
        await writer.drain()
        line = await asyncio.wait_for(reader.readline(), timeout)
        parts = line.split()
        return int(parts[1]) if len(parts) > 1 and parts[1].isdigit() else None
    except (OSError, TimeoutError, ValueError):
        return None
    finally:
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()


def add_children(sup: Supervisor, plan: Plan, nats_url: str, mongo_url: str,
                 creds: Callable[[str], dict[str, str]] | None = None) -> None:
    """`creds(user)`: the IM_NATS_USER / IM_NATS_PASSWORD of that NATS user, when NATS
    runs with users (see im_cli.natsauth)."""
    def auth(user: str) -> dict[str, str]:
        if not creds:
            return {}
        # With NATS users, each service believes only actors the gateway signed for it.
        env = creds(user)
        if user.startswith("service-"):
            from gateway.keys import resolve_key
            from im_runtime.actors import service_key

            secret = resolve_key({"IM_GATEWAY_KEY_FILE": str(plan.key_file)})
            env["IM_ACTOR_KEY"] = service_key(secret, user.removeprefix("service-")).hex()
        return env

    from gateway.keys import ensure_key_file

    secret = str(ensure_key_file(plan.erasure_secret_file))
    gateway_env = env_with(nats_url, mongo_url, IM_GATEWAY_HOST=HOST,
                           IM_GATEWAY_PORT=str(plan.ports["gateway"]),
                           IM_GATEWAY_KEY_FILE=str(plan.key_file),
                           IM_ERASURE_SECRET_FILE=secret, **auth("gateway"))
    # The gateway first: groups stop in reverse, so the services stop before it.
    sup.add("gateway", [sys.executable, "-m", "gateway"], env=gateway_env,
            log_path=plan.logs / "gateway.log", group="gateway")
    for name, count in plan.services:
        service_env = env_with(nats_url, mongo_url, IM_ERASURE_SECRET_FILE=secret,
                               **auth(f"service-{name}"))
        for i in range(1, count + 1):
            child = name if count == 1 else f"{name}-{i}"
            sup.add(child, [sys.executable, "-m", "im_cli.main", "run", name], env=service_env,
                    log_path=plan.logs / f"{child}.log", group="services")


def banner(plan: Plan, nats_url: str, mongo_url: str, healthy: bool,
           first_password: str | None = None) -> str:
    base = f"http://{HOST}:{plan.ports['gateway']}"
    first = [f"  first sign-in    user {FIRST_ADMIN}, one-time password {first_password} "
             "(shown once; choose your own at the first sign-in)"] if first_password else []
    services = ", ".join(f"{n}" + (f" x{c}" if c > 1 else "") for n, c in plan.services)
    lines = [
        "im up: the stack is running" if healthy else
        "im up: started, but the gateway is not healthy yet (see its log)",
        f"  NATS             {nats_url}",
        f"  MongoDB-wire     {mongo_url}",
        f"  services         {services or 'none'}",
        f"  dashboard        {base}/   (sign in; accounts: im users add|list|disable|reset)",
        *first,
        f"  API              {base}/api",
        f"  health           {base}/health",
        f"  API schema       {base}/schema",
        f"  data and logs    {plan.var} (logs in {plan.logs})",
        "  token            im token --role city_admin   (for machines calling the API)",
        "Press Ctrl-C to stop.",
    ]
    return "\n".join(lines)


def add_servers(sup: Supervisor, servers: list[Server]) -> None:
    """The servers first: groups stop in reverse, so they stop last."""
    for server in servers:
        server.workdir.mkdir(parents=True, exist_ok=True)
        sup.add(server.name, server.command(), log_path=server.log_path, group="servers")


async def until_listening(sup: Supervisor, server: Server, timeout: float = 20.0) -> None:
    """Until `server` accepts connections; ServerFailed if its first start fails."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    child = sup.child(server.name)
    while not port_open(server.port):
        if child.exits:
            raise ServerFailed(f"{server.name} exited with {child.exits[0]}; "
                               f"see {server.log_path}")
        if loop.time() > deadline:
            raise ServerFailed(f"{server.name} did not open port {server.port} in {timeout}s; "
                               f"see {server.log_path}")
        await asyncio.sleep(0.05)


async def supervise(plan: Plan, servers: list[Server], nats_url: str, mongo_url: str,
                    health_timeout: float = 30.0,
                    creds: Callable[[str], dict[str, str]] | None = None,
                    auth: natsauth.Embedded | None = None) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    sup = Supervisor(Backoff(initial=0.5, cap=30.0, stable_after=30.0), stop_timeout=10.0)
    add_servers(sup, servers)
    await sup.start()
    try:
        for server in servers:
            await until_listening(sup, server)
        if auth is not None:
            await _provision(nats_url, auth)
        add_children(sup, plan, nats_url, mongo_url, creds)
        replaying = asyncio.create_task(show_replays(plan, nats_url, auth))
        deadline = loop.time() + health_timeout
        healthy = False
        while not stop.is_set() and loop.time() < deadline:
            if await http_status(plan.ports["gateway"], "/health") == 200:
                healthy = True
                break
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.2)
        if not stop.is_set():
            # The first admin needs the database only (listening by now), not the gateway:
            # a gateway slower than health_timeout (a loaded machine's first start) must
            # not leave that start without a one-time password to sign in with.
            first = await first_admin(mongo_url)
            print(banner(plan, nats_url, mongo_url, healthy, first), flush=True)
            await stop.wait()
        print("im up: stopping (services, then the gateway, then the servers) ...", flush=True)
        replaying.cancel()
    finally:
        await sup.stop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)


async def show_replays(plan: Plan, nats_url: str, auth: natsauth.Embedded | None) -> None:
    """Progress bars while the services work through the history on the bus (a `var/`
    with events): they answer nothing until they have caught up."""
    import nats

    from im_cli import natsauth, replays
    from im_runtime.plugins import installed

    user = ({"user": natsauth.ADMIN, "password": auth.passwords[natsauth.ADMIN]}
            if auth else {})
    try:
        nc = await nats.connect(nats_url, **user)  # type: ignore[arg-type]
    except Exception:  # the bars are a courtesy: the stack runs without them
        return
    try:
        specs = installed()
        await replays.watch(nc.jetstream(), {name: specs[name] for name, _ in plan.services})
    except Exception:
        logging.getLogger("im.up").debug("replay progress stopped", exc_info=True)
    finally:
        await nc.close()


async def _provision(nats_url: str, auth: natsauth.Embedded) -> None:
    """The streams every service finds (each creates only its own) and the operators'
    feedback consumers (admin user); tell where the passwords are."""
    import nats

    from im_cli import natsauth

    nc = await nats.connect(nats_url, user=natsauth.ADMIN,
                            password=auth.passwords[natsauth.ADMIN])
    try:
        await natsauth.provision(nc, auth.operators)
    finally:
        await nc.close()
    print("im up: NATS requires a user: passwords in nats/passwords.json under --var "
          f"(operators: {', '.join(auth.operators) or 'none'}; add one with "
          "`im operators add ID`)", flush=True)


def private_var(var: Path) -> None:
    """Everything under var/ is the owner's alone: names, case notes and secrets live in
    its databases, logs and key files. The mask makes every file this process and its
    children (nats-server, nx-27017, services, gateway) create 0600 and every folder
    0700 from the start; var/ itself is closed to others, which also closes files an
    earlier version left readable."""
    os.umask(0o077)
    var.mkdir(parents=True, exist_ok=True)
    if var.stat().st_mode & 0o077:
        var.chmod(0o700)


class _Terminated(Exception):
    pass


def _raise_terminated(signum: int, frame: FrameType | None) -> None:
    raise _Terminated


def run(args: argparse.Namespace) -> int:
    from im_runtime import logs
    from im_runtime.plugins import PluginError, installed

    try:
        specs = installed()
    except (PluginError, ImportError) as exc:
        raise CliError(str(exc)) from exc
    plan = make_plan(args, specs)
    private_var(plan.var)
    try:
        for key, port in plan.ports.items():
            check_free(port, PORT_WHAT[key])
    except PortInUse as exc:
        raise CliError(str(exc)) from exc
    logs.setup("INFO", "text")
    auth = None
    if getattr(args, "nats_auth", True):
        from im_cli import natsauth

        auth = natsauth.embedded(plan.var / "nats", specs, natsauth.operators_from_env())
    natsd = NatsServer(port=plan.ports["nats"], workdir=plan.var / "nats",
                       config_extra=auth.config if auth else "")
    mongod = MongoWireServer(port=plan.ports["mongo"], workdir=plan.var / "mongo")
    (plan.logs).mkdir(parents=True, exist_ok=True)
    from gateway.keys import ensure_key_file

    ensure_key_file(plan.key_file)
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        asyncio.run(supervise(plan, [natsd, mongod], natsd.url, mongod.url,
                              creds=auth.client_env if auth else None, auth=auth))
    except (KeyboardInterrupt, _Terminated):
        print("im up: interrupted while starting; stopping", flush=True)
    except (ServerFailed, PortInUse) as exc:
        raise CliError(str(exc)) from exc
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, signal.default_int_handler)
    print("im up: stopped", flush=True)
    return 0
