"""A command id may name a resident (the demo seeder's `demo:enrol:<course>:<id>`): the
idempotency record kept under it goes with the resident's erasure, on the MongoDB-wire
server and in the in-memory store alike; a record naming another resident whose id
merely starts the same stays."""

from __future__ import annotations

import pytest

from im_runtime.memory import MemoryStore
from im_runtime.storage.mongo import PROCESSED, MongoStore

pytestmark = pytest.mark.integration
RECORDS = {
    "demo:enrol:ank-misburg:r-demo-00328": None,      # names the resident: goes
    "demo:enrol:ank-misburg:r-demo-003281": None,     # another resident: stays
    "c-7f3a": b'{"status":"ok","resident_id":"r-demo-00328"}',  # reply naming: forgotten
    "e-91b2": None,                                   # an event id: stays
}


async def test_records_named_after_the_resident_go_on_the_wire_server(servers, test_id) -> None:
    store = MongoStore(servers.mongo_url, f"t{test_id}_education")
    try:
        await store.db[PROCESSED].insert_many(
            [{"_id": k, "reply": v, "at": 1} for k, v in RECORDS.items()])
        assert await store.scrub_replies(["r-demo-00328"]) == 2
        left = {d["_id"]: d["reply"] async for d in store.db[PROCESSED].find({})}
        assert left == {"demo:enrol:ank-misburg:r-demo-003281": None, "c-7f3a": None,
                        "e-91b2": None}
    finally:
        await store.client.drop_database(f"t{test_id}_education")
        await store.close()


async def test_records_named_after_the_resident_go_in_memory() -> None:
    store = MemoryStore("education")
    store.processed.update(RECORDS)
    assert await store.scrub_replies(["r-demo-00328"]) == 2
    assert store.processed == {"demo:enrol:ank-misburg:r-demo-003281": None, "c-7f3a": None,
                               "e-91b2": None}
