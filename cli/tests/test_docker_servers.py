"""`IM_TEST_DOCKER=1` asks for containers (a MongoDB replica set and NATS): without a
Docker engine the session must stop with a reason, not fall back unnoticed."""

from __future__ import annotations

import contextlib

import pytest

from im_cli.testing import _docker_servers

pytestmark = pytest.mark.unit


def test_containers_asked_for_without_a_docker_engine_are_refused_with_the_reason(
        monkeypatch, tmp_path):
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path}/no-docker.sock")
    with contextlib.ExitStack() as stack, pytest.raises(RuntimeError,
                                                        match="no Docker engine answers"):
        _docker_servers(stack)
