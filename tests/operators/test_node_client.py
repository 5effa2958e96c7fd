"""examples/operator-node against the embedded stack: a Node operator system publishes a
counselling session and a referral (CloudEvents through the CloudEvents JS SDK, JetStream
through @nats-io/jetstream) and reads its feedback from its durable consumer fb_<id>."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from support import node

pytestmark = pytest.mark.flow
EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "operator-node"


def _run(env: dict[str, str], **extra: str) -> subprocess.CompletedProcess[str]:
    node.npm_ci(EXAMPLE)
    clean = {k: v for k, v in node.env().items() if not k.startswith("IM_")}
    return subprocess.run([node.NODE, "operator.mjs"], cwd=EXAMPLE, capture_output=True,
                          text=True, timeout=120, env={**clean, **env, **extra})


def test_the_node_client_publishes_and_reads_its_feedback(stack):
    op = stack.onboard("op-node")
    done = _run(op.env, IM_SITE=op.site, IM_RESIDENT=op.resident, IM_TOPIC="housing_search")
    out = done.stdout
    assert done.returncode == 0, out + done.stderr
    assert f"on im.ops.{op.id}.session_recorded.{op.resident} (stream IM_OPS" in out
    assert f"on im.ops.{op.id}.referral_requested.{op.resident} (stream IM_OPS" in out
    assert "feedback im.feedback.referral_received.v1: referral ref-" in out
    assert "handed to housing" in out and "has feedback" in out


def test_a_wrong_password_is_refused_and_nothing_is_published(stack):
    op = stack.onboard("op-node-bad")
    env = {**op.env, "IM_NATS_PASSWORD": "not-the-password"}
    done = _run(env, IM_SITE=op.site, IM_RESIDENT=op.resident, IM_FEEDBACK_WAIT="3")
    assert done.returncode != 0
    assert "Authorization Violation" in done.stderr or "AUTHORIZATION_VIOLATION" in done.stderr
    assert "published" not in done.stdout


def test_missing_settings_are_named(stack):
    done = _run({"IM_NATS_URL": "nats://127.0.0.1:1"})
    assert done.returncode == 2 and "set IM_NATS_USER" in done.stderr
