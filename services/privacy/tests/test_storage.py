"""The ledger's checkpoint request: done on the embedded server, skipped where the database
refuses it (MongoDB without the right), retried when the server is busy."""

from __future__ import annotations

from typing import Any

import pytest
from pymongo.errors import OperationFailure

from im_runtime.memory import MemoryStore
from privacy import storage

pytestmark = pytest.mark.unit


class FakeAdmin:
    def __init__(self, answer: Any) -> None:
        self.answer, self.asked = answer, []

    async def command(self, name: str) -> Any:
        self.asked.append(name)
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


class FakeClient:
    def __init__(self, answer: Any) -> None:
        self.admin = FakeAdmin(answer)


class FakeStore:
    def __init__(self, answer: Any) -> None:
        self.client = FakeClient(answer)


async def test_the_server_is_asked_to_checkpoint() -> None:
    store = FakeStore({"ok": 1, "numFiles": 3})
    assert await storage.checkpoint(store) is True
    assert store.client.admin.asked == ["fsync"]


async def test_a_refusal_is_skipped_and_a_busy_server_retried() -> None:
    assert await storage.checkpoint(FakeStore(OperationFailure("not authorized", 13))) is False
    with pytest.raises(OperationFailure):
        await storage.checkpoint(FakeStore(OperationFailure("busy", storage.LOCK_BUSY)))


async def test_nothing_to_do_for_the_in_memory_store() -> None:
    assert await storage.checkpoint(MemoryStore("privacy")) is True
