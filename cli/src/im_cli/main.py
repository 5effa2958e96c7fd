"""The `im` command."""

from __future__ import annotations

import argparse
import sys

from im_cli import commands, completion


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="im", description="Integration management platform: run the stack and its "
        "services, seed the demo city, manage users, prove where personal data is.",
        epilog="Shell completion: `im completion bash` (or zsh, tcsh) prints the script.")
    p.add_argument("--version", action="version", version=completion.version_text(),
                   help="print the versions of im, its services and servers, and exit")
    sub = p.add_subparsers(dest="cmd", required=True, metavar="COMMAND")

    run = sub.add_parser("run", help="run one service (name or module:attribute)")
    service = run.add_argument("service", help="an installed service's name (see `im "
                               "services`) or module:attribute of a ServiceSpec")
    service.complete = completion.SERVICE_NAMES  # type: ignore[attr-defined]
    run.set_defaults(func=commands.run)

    svc = sub.add_parser("services", help="list installed services and the running ones")
    svc.add_argument("--timeout", type=float, default=0.5, metavar="SECONDS",
                     help="how long to wait for running services to answer (0.5)")
    svc.set_defaults(func=commands.services)

    contracts = sub.add_parser("contracts", help="contracts tools")
    csub = contracts.add_subparsers(dest="contracts_cmd", required=True, metavar="TOOL")
    schema = csub.add_parser("schema", help="write the JSON Schema of every message")
    schema.add_argument("--out", required=True, metavar="DIR",
                        help="folder to write the schemas into (created if missing)")
    schema.set_defaults(func=commands.schema)
    aapi = csub.add_parser("asyncapi", help="write the AsyncAPI 3.0 document of the bus "
                                            "(every subject family) and its Markdown rendering")
    aapi.add_argument("--out", default="docs/asyncapi.yaml",
                      help="the AsyncAPI YAML file (default docs/asyncapi.yaml)")
    aapi.add_argument("--markdown", default="docs/asyncapi.md",
                      help="the Markdown rendering (default docs/asyncapi.md)")
    aapi.add_argument("--check", action="store_true",
                      help="write nothing; fail when the files differ from what would be "
                           "written")
    aapi.set_defaults(func=commands.asyncapi)

    from im_cli import feedback, operators, privacy, publish, token, up, users
    from im_cli.demo import command as demo

    up.add_parser(sub)
    publish.add_parser(sub)
    feedback.add_parser(sub)
    operators.add_parser(sub)
    token.add_parser(sub)
    users.add_parser(sub)
    privacy.add_parser(sub)
    demo.add_parser(sub)
    completion.add_parser(sub, p)
    return p


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except KeyboardInterrupt:
        return 130
    except commands.CliError as exc:
        print(f"im: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
