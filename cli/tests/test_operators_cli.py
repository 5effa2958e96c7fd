"""`im operators add|list` without a running server: what it writes, what it refuses.
The running stack (reload, feedback consumer, a client connecting) is tested in
tests/operators/."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import bcrypt
import pytest

from im_cli import natsauth
from im_cli.embedded import NatsServer
from im_runtime.plugins import installed

pytestmark = pytest.mark.unit
PY = sys.executable


def im(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([PY, "-m", "im_cli.main", *args], capture_output=True, text=True,
                          timeout=60)


@pytest.fixture()
def var(tmp_path: Path) -> Path:
    """A var/ as `im up` leaves it (with IM_OPERATORS=op-env), its NATS not running."""
    var = tmp_path / "var"
    auth = natsauth.embedded(var / "nats", installed(), ["op-env"])
    NatsServer(port=4999, workdir=var / "nats", config_extra=auth.config).write_config()
    return var


def test_an_operator_added_while_nats_is_down_is_there_at_the_next_start(var):
    done = im("operators", "add", "op-new", "--var", str(var))
    assert done.returncode == 0, done.stderr
    assert "NATS is not running: the operator is there from the next `make run` on" in done.stdout
    password = done.stdout.split("  password")[1].split()[0]
    conf = (var / "nats" / "nats-server.conf").read_text()
    assert '"OP_op-new" {' in conf and '"OP_op-env" {' in conf  # the earlier one kept
    stored = json.loads((var / "nats" / "operators.json").read_text())["op-new"]
    assert bcrypt.checkpw(password.encode(), stored.encode())  # only the hash is kept
    assert password not in conf and password not in (var / "nats/passwords.json").read_text()
    assert f'password: "{stored}"' in conf
    assert "export IM_NATS_URL=nats://127.0.0.1:4999 IM_NATS_USER=operator-op-new" in done.stdout
    # im up at its next start: the added operator with its hash, the env's with theirs
    again = natsauth.embedded(var / "nats", installed(), ["op-env"])
    assert again.operators == ("op-env", "op-new") and stored in again.config
    listed = im("operators", "list", "--var", str(var)).stdout
    assert "op-new" in listed and "fb_op-new" in listed and "op-env" in listed


def test_adding_an_operator_twice_changes_nothing(var):
    assert im("operators", "add", "op-twice", "--var", str(var)).returncode == 0
    before = (var / "nats" / "operators.json").read_text()
    for op in ("op-twice", "op-env"):
        done = im("operators", "add", op, "--var", str(var))
        assert done.returncode == 2 and f"operator '{op}' exists already" in done.stderr
    assert (var / "nats" / "operators.json").read_text() == before


@pytest.mark.parametrize("bad", ["op.a", "op a", "", "op>", "x" * 65])
def test_an_id_that_cannot_be_a_subject_token_is_refused(var, bad):
    done = im("operators", "add", bad, "--var", str(var))
    assert done.returncode == 2 and "is not a valid subject token" in done.stderr
    assert not (var / "nats" / "operators.json").exists()


def test_no_stack_no_change(tmp_path):
    done = im("operators", "add", "op-a", "--var", str(tmp_path / "nothing"))
    assert done.returncode == 2 and "no embedded stack under" in done.stderr
    assert not (tmp_path / "nothing").exists()


@pytest.mark.parametrize("target,secret_step", [
    ("compose", "2. add to .env:  IM_NATS_PASSWORD_OPERATOR_OP_NEW_1="),
    ("kubernetes", "kubectl patch secret im-nats-users"),
])
def test_compose_and_kubernetes_get_the_steps(tmp_path, target, secret_step):
    done = im("operators", "add", "op-new_1", "--for", target, "--var", str(tmp_path))
    assert done.returncode == 0, done.stderr
    out = done.stdout
    assert "echo op-new_1 >> infra/nats/operators.txt" in out and secret_step in out
    assert "python -m im_cli.natsauth provision --operator op-new_1" in out
    password = out.split("password ")[1].split()[0]
    assert len(password) >= 32 and password in out.split(secret_step)[1]
    assert not list(tmp_path.iterdir())  # nothing written here
