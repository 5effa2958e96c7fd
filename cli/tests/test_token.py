"""`im token`: a token the gateway accepts, signed with the key file `im up` creates."""

from __future__ import annotations

import pytest

from gateway.auth import Tokens
from gateway.keys import ensure_key_file, resolve_key
from im_cli.main import main

pytestmark = pytest.mark.unit


def test_im_token_signs_with_the_gateway_key_file(tmp_path, monkeypatch, capsys):
    key_file = ensure_key_file(tmp_path / "gateway.key")
    monkeypatch.delenv("IM_GATEWAY_KEY", raising=False)
    monkeypatch.setenv("IM_GATEWAY_KEY_FILE", str(key_file))
    assert main(["token", "--role", "social_worker", "--sites", "s-a, s-b",
                 "--subject", "anna", "--ttl", "1"]) == 0
    token = capsys.readouterr().out.strip()
    actor = Tokens(resolve_key({"IM_GATEWAY_KEY_FILE": str(key_file)})).verify(token)
    assert (actor.subject, actor.role, actor.sites) == ("anna", "social_worker", ("s-a", "s-b"))


def test_im_token_refuses_without_a_key_or_the_role_details(tmp_path, monkeypatch, capsys):
    monkeypatch.delenv("IM_GATEWAY_KEY", raising=False)
    monkeypatch.setenv("IM_GATEWAY_KEY_FILE", str(tmp_path / "none.key"))
    assert main(["token", "--role", "city_admin"]) == 2
    assert "IM_GATEWAY_KEY" in capsys.readouterr().err
    monkeypatch.setenv("IM_GATEWAY_KEY", "z" * 40)
    assert main(["token", "--role", "operator"]) == 2
    assert "--operator" in capsys.readouterr().err
    assert main(["token", "--role", "operator", "--operator", "op-1"]) == 0
    actor = Tokens(b"z" * 40).verify(capsys.readouterr().out.strip())
    assert actor.operator == "op-1"
