"""docs/operators.md, executed: every `sh` block in order, in a shell whose `uv run im`
is this checkout's `im`, in a folder holding the guide's `<!-- file: NAME -->` examples and
the embedded stack's `var/`, against that stack. The only changes to what the guide says:
the NATS URL (the stack's own port) and the password (the one `im operators add`
printed). The permissions it lists are the ones generated into infra/."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from im_cli import natsauth

pytestmark = pytest.mark.flow
GUIDE = Path(__file__).resolve().parents[2] / "docs" / "operators.md"
OPERATOR, SITE, RESIDENT = "op-drk-hannover", "munzeler-strasse", "r-3f9a1c22b7e4"
SHELL = 'uv() { [ "$1" = run ] && shift; "$@"; }\nset -euo pipefail\n'


def blocks(text: str) -> list[tuple[str, str, str | None]]:
    """(language, body, file name or None) of each fenced block, in order."""
    found = re.finditer(r"(?:<!-- file: (\S+) -->\n)?```(\w*)\n(.*?)```", text, re.S)
    return [(m.group(2), m.group(3), m.group(1)) for m in found]


def test_the_guide_runs_as_written(stack, tmp_path):
    guide = GUIDE.read_text()
    for _, body, name in blocks(guide):
        if name:
            (tmp_path / name).write_text(body)
    (tmp_path / "var").symlink_to(stack.var)
    stack.shelter_with_resident(OPERATOR, site=SITE, resident=RESIDENT)
    url = f"nats://127.0.0.1:{stack.up.ports['nats']}"
    env = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "HOME": str(tmp_path)}

    def bash(script: str) -> str:
        done = subprocess.run(["bash", "-c", SHELL + "exec 2>&1\n" + script], cwd=tmp_path,
                              env=env, capture_output=True, text=True, timeout=180)
        assert done.returncode == 0, f"{script}\n{done.stdout}"
        return done.stdout

    first, *rest = [body for lang, body, _ in blocks(guide) if lang == "sh"]
    added = bash(first)  # the operations team's step: prints the password once
    password = re.search(r"^  password\s+(\S+)", added, re.M)
    assert password, added
    script = "".join(
        f"echo '@@@'\n{b.replace('nats://127.0.0.1:4222', url)}" for b in rest
    ).replace("'the password printed once'", shlex.quote(password.group(1)))
    _, _exported, published, referral, feedback = bash(script).split("@@@\n")
    assert f"operator {OPERATOR} added. NATS reloaded" in added
    assert f"im.ops.{OPERATOR}.session_recorded.{RESIDENT}" in published
    assert "(not sent)" in published
    assert f"published 5b1f0c7e9a2d4e6f8a0b1c2d3e4f5a6b on im.ops.{OPERATOR}" in published
    assert "published 8e4c3f0b2d5a7b9c1d3e4f5a6b7c8d9e" in referral
    events = [json.loads(line) for line in feedback.splitlines() if line.startswith("{")]
    mine = [e for e in events if e["data"]["referral_id"] == "ref-9d0c3b2a1e7f"]
    assert mine and mine[0]["type"] == "im.feedback.referral_received.v1", feedback
    assert mine[0]["data"]["owner"] == "housing"


def test_the_permissions_it_lists_are_the_generated_ones():
    guide = GUIDE.read_text()
    section = guide.split("## 8. Your permissions")[1].split("## 9.")[0]
    listed = set(re.findall(r"\| `([^`]+)` \|$", section, re.M))
    perms = natsauth.operator_permissions(OPERATOR)
    assert listed == {*perms.publish, *perms.subscribe}
    accounts = (GUIDE.parents[1] / "infra" / "nats" / "accounts.conf").read_text()
    for subject in perms.publish:
        assert f'{{service: "{subject}"' in accounts  # exported to the operator's account
    limits = natsauth.OPERATOR_LIMITS
    assert (f"{limits['max_connections']}\nconnections, {limits['max_subscriptions']} "
            f"subscriptions, {limits['max_payload'] // 1024} KiB per message") in section
