"""The plugin adds itself (issue #21: "no gateway, runtime or other service code changes"):
no source of the gateway, the runtime, the shared contracts, the command line or another
service names plans. What outside its folder names it is the workspace's files
(pyproject.toml, Makefile, uv.lock), the generated deployment files (infra/,
docker-compose.yml, docs/asyncapi.*) and tests; the gateway, the dashboard and the demo
find it through its entry points (`im.services`, `im.web`, `im.demo`)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit
ROOT = Path(__file__).resolve().parents[3]
SOURCES = ("contracts/src", "cli/src", "gateway/src", *(
    f"services/{name}/src" for name in ("runtime", "housing", "education", "employment",
                                        "counselling", "volunteers", "privacy")))
KINDS = (".py", ".js", ".json", ".html", ".css", ".toml")
NAMED = re.compile(r"\bplans\b", re.IGNORECASE)


def test_no_code_outside_the_plugin_names_it():
    named, scanned = [], 0
    for root in SOURCES:
        assert (ROOT / root).is_dir(), root
        for path in sorted((ROOT / root).rglob("*")):
            if path.suffix not in KINDS or "__pycache__" in path.parts:
                continue
            scanned += 1
            for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
                if NAMED.search(line):
                    named.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()}")
    assert scanned > 100  # the sources were found
    assert named == []


def test_the_plugin_is_found_through_its_entry_points():
    from importlib.metadata import entry_points

    for group, target in (("im.services", "plans.plugin:spec"), ("im.web", "plans.web"),
                          ("im.demo", "plans.demo:hook")):
        (ep,) = [ep for ep in entry_points(group=group) if ep.name == "plans"]
        assert ep.value == target
