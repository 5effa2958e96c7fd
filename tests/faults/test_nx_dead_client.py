"""nx-27017 0.8.1 keeps the transaction of a client that died open, and a later write on
the same database commits the dead client's half of it; MongoDB aborts it. The runtime
works around it (SerialisedSavepoints.exclusive ends such a transaction first); this test shows
the server's own behaviour and fails loudly (strict) once nx-27017 behaves like MongoDB,
so the workaround can go."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from faults.harness import Stage

pytestmark = pytest.mark.faults

DIES_MID_TRANSACTION = """
import os, sys
from pymongo import MongoClient
client = MongoClient(sys.argv[1])
coll = client["nxbug"]["docs"]
coll.insert_one({"_id": "before"})
with client.start_session() as session:
    session.start_transaction()
    coll.insert_one({"_id": "half"}, session=session)
    os._exit(9)  # dies with the transaction open, as kill -9 mid-commit does
"""


@pytest.mark.xfail(strict=True, reason=(
    "nx-27017 0.8.1: a dead client's transaction stays open and the next write commits "
    "its half (MongoDB aborts it); worked around in im_runtime.storage.transactions "
    "(SerialisedSavepoints)"))
async def test_a_dead_clients_transaction_is_aborted(stage: Stage) -> None:
    died = await asyncio.create_subprocess_exec(
        sys.executable, "-c", DIES_MID_TRANSACTION, stage.mongo.url,
        stderr=asyncio.subprocess.PIPE)
    _, err = await asyncio.wait_for(died.communicate(), 60)
    assert died.returncode == 9, err
    client: AsyncMongoClient[Any] = AsyncMongoClient(stage.mongo.url)
    try:
        coll = client["nxbug"]["docs"]
        await coll.insert_one({"_id": "after"})
        assert await coll.find_one({"_id": "half"}) is None
    finally:
        await client.close()
