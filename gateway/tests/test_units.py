"""Pure pieces: the one error map, the signing key, tokens."""

from __future__ import annotations

import stat
from datetime import timedelta

import pytest

from contracts import ErrorReply
from gateway.auth import Tokens
from gateway.errors import STATUS, ApiError, on_api_error
from gateway.keys import ensure_key_file, resolve_key
from im_runtime.settings import SettingsError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("code", "status"), [
    ("bad_request", 400), ("unauthorised", 401), ("forbidden", 403), ("not_found", 404),
    ("conflict", 409), ("gone", 410), ("internal", 500), ("unavailable", 503),
    ("accepted", 202)])
def test_every_error_code_has_its_status(code, status):
    assert STATUS[code] == status
    err = ApiError.from_reply(ErrorReply(code=code, message="m", details={"a": "b"}),
                              service="svc")
    response = on_api_error(None, err)  # type: ignore[arg-type]
    assert response.status_code == status
    assert response.content.details == {"a": "b", "service": "svc"}


def test_the_key_file_is_created_once_readable_only_by_its_owner(tmp_path):
    path = ensure_key_file(tmp_path / "var" / "gateway.key")
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    key = resolve_key({"IM_GATEWAY_KEY_FILE": str(path)})
    ensure_key_file(path)
    assert resolve_key({"IM_GATEWAY_KEY_FILE": str(path)}) == key and len(key) >= 32
    assert resolve_key({"IM_GATEWAY_KEY": "x" * 40, "IM_GATEWAY_KEY_FILE": str(path)}) \
        == b"x" * 40


def test_a_missing_or_short_key_is_refused_naming_the_variable(tmp_path):
    with pytest.raises(SettingsError, match="IM_GATEWAY_KEY_FILE"):
        resolve_key({"IM_GATEWAY_KEY_FILE": str(tmp_path / "none")})
    with pytest.raises(SettingsError, match="IM_GATEWAY_KEY must hold"):
        resolve_key({"IM_GATEWAY_KEY": "short"})


def test_a_token_round_trips_to_the_actor():
    tokens = Tokens(b"k" * 32)
    actor = tokens.verify(tokens.mint(role="social_worker", subject="anna", sites=("s1", "s2"),
                                      ttl=timedelta(minutes=5)))
    assert (actor.subject, actor.role, actor.sites) == ("anna", "social_worker", ("s1", "s2"))
    with pytest.raises(ApiError) as exc:
        Tokens(b"j" * 32).verify(tokens.mint(role="auditor", subject="x"))
    assert exc.value.status == 401
