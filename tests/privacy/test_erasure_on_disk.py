"""Erasure leaves no bytes behind on disk (issue #24), on the embedded stack as `make run`
starts it: a resident with counselling sessions and a case note naming them, a move-out
case, an enrolment, coaching and a tandem is read through the API (searched for by
name, too), the stack is stopped and started again (so nats-server writes its stream
state files and SQLite its pages, as on a stack that has been running), the resident is
erased through the API, and then no file under the data directory (JetStream's blocks
and `index.db` state files, the SQLite databases and their WAL, every log) holds the
resident's id or either of their names."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from support.erasure import request_and_approve_sync
from support.stack import Person, Stack, files_mentioning, new_stack, resident_everywhere, until

pytestmark = pytest.mark.flow


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    s = new_stack(tmp_path_factory.mktemp("erasure-on-disk"))
    s.start()
    try:
        yield s
    finally:
        s.stop()


def read_as_staff(stack: Stack, p: Person) -> None:
    with httpx.Client(base_url=stack.base, headers=stack.auth(), timeout=30) as gw:
        def known_everywhere() -> bool:
            r = gw.get(f"/api/v1/residents/{p.resident}")
            sections = r.json().get("sections", {}) if r.status_code == 200 else {}
            return all(sections.get(s) for s in ("housing", "education", "employment",
                                                 "counselling", "volunteers"))

        until(known_everywhere, 60, "the resident in every service's section")
        found = gw.get("/api/v1/residents", params={"q": p.given_name}).json()
        assert found["total"] == 1, found


def erase(stack: Stack, p: Person) -> dict[str, object]:
    with httpx.Client(base_url=stack.base, headers=stack.auth(), timeout=30) as gw:
        # four eyes, as `make run` has it: one city admin asks, another approves
        request_and_approve_sync(gw, p.resident, stack.auth(subject="admin-a"),
                                 stack.auth(subject="admin-b"))

        def complete() -> dict[str, object] | None:
            s = gw.get(f"/api/v1/residents/{p.resident}/erasure").json()
            return s if s.get("complete") else None

        return dict(until(complete, 60, "the erasure to complete"))


def test_an_erased_resident_leaves_no_bytes_in_any_file_of_the_stack(stack: Stack) -> None:
    p = resident_everywhere(stack)
    read_as_staff(stack, p)
    terms = [p.resident, p.given_name, p.family_name]
    # At rest, as on a stack that has run a while: state files written, WAL checkpointed.
    stack.stop()
    before = files_mentioning(stack.var, terms)
    where = " ".join(before)
    assert "msgs/index.db" in where and ".blk" in where and "mongo/data" in where, before
    stack.start()

    status = erase(stack, p)
    assert {"housing", "education", "employment", "counselling", "volunteers"} <= {
        c["service"] for c in status["confirmations"]}  # type: ignore[attr-defined, index]

    left = files_mentioning(stack.var, terms)
    assert left == {}, _explain(stack.var, left)
    # and the erased resident is gone for the API as well
    with httpx.Client(base_url=stack.base, headers=stack.auth(), timeout=30) as gw:
        assert gw.get(f"/api/v1/residents/{p.resident}").status_code == 410


def _explain(root: Path, left: dict[str, list[str]]) -> str:
    lines = []
    for name, hits in left.items():
        data = (root / name).read_bytes()
        for term in hits:
            at = data.find(term.encode())
            lines.append(f"{name}: {term!r} in …{data[max(0, at - 60):at + 40]!r}…")
    return "\n".join(lines)
