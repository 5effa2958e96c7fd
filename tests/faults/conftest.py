"""The fault suite runs its own servers per case (it kills them); see harness.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from faults.harness import Stage


@pytest.fixture
def stage(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Stage]:
    options = request.node.get_closest_marker("stage")
    st = Stage(tmp_path, **(options.kwargs if options else {}))
    st.start_servers()
    try:
        yield st
    finally:
        st.stop()
        if request.node.rep_call.failed if hasattr(request.node, "rep_call") else False:
            print(st.logs())


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    rep = yield
    if rep.when == "call":
        item.rep_call = rep  # type: ignore[attr-defined]
    return rep
