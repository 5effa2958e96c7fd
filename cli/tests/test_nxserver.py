"""nx-27017 through its launcher (im_cli.nxserver), as the embedded stack runs it: deleted
documents leave no bytes in the database files once `fsync` has checkpointed the WAL,
and every SQLite connection of the server deletes securely."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from pymongo import AsyncMongoClient

from im_cli.embedded import MongoWireServer, free_port

pytestmark = pytest.mark.integration


@pytest.fixture
def mongod(tmp_path: Path) -> Iterator[MongoWireServer]:
    server = MongoWireServer(port=free_port(), workdir=tmp_path / "mongo")
    server.start()
    yield server
    server.stop()


def holding(folder: Path, term: str) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if term.encode() in p.read_bytes())


async def test_fsync_checkpoints_every_database_and_empties_its_wal(
        mongod: MongoWireServer) -> None:
    data, term = mongod.workdir / "data", f"r-{uuid.uuid4().hex[:12]}"
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(mongod.url)
    try:
        for db in ("t_housing", "t_counselling"):
            await client[db].things.insert_many(
                [{"_id": f"x-{i}", "filler": "x" * 200} for i in range(200)])
            await client[db].things.insert_one({"_id": term, "note": f"about {term}"})
            await client[db].things.delete_one({"_id": term})
        # deleted, yet the pages as they were before are still in the write-ahead logs
        assert holding(data, term) == ["t_counselling.db-wal", "t_housing.db-wal"]
        answer = await client.admin.command("fsync")
        assert answer["ok"] == 1 and answer["numFiles"] >= 2
        assert holding(data, term) == []
        assert all(p.stat().st_size == 0 for p in data.glob("*.db-wal"))
        # the databases still work, and what was not deleted is there
        assert await client["t_housing"].things.count_documents({}) == 200
    finally:
        await client.close()


def test_every_connection_of_the_server_process_deletes_securely(tmp_path: Path) -> None:
    """neosqlite's own connections and a plain one: secure_delete is on (SQLite builds
    differ in the default, Debian's has it on; the launcher does not rely on that)."""
    script = (
        "import sqlite3\n"
        "from im_cli import nxserver\n"
        "nxserver.secure_connections()\n"
        "from neosqlite import Connection\n"
        f"c = Connection({str(tmp_path / 'a.db')!r})\n"
        "raw = sqlite3.connect(':memory:')\n"
        "print(c.db.execute('PRAGMA secure_delete').fetchone()[0],"
        " raw.execute('PRAGMA secure_delete').fetchone()[0])\n")
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         check=True)
    assert out.stdout.split() == ["1", "1"]
