"""The MongoDB adapter against the real MongoDB-wire server."""

import asyncio

import pytest

from im_runtime.errors import ConcurrencyConflict
from im_runtime.storage.mongo import MongoStore
from support.probe import Counted

pytestmark = pytest.mark.integration


@pytest.fixture
async def store(settings):
    s = MongoStore(settings.mongo_url, settings.db_prefix + "store")
    await s.start({})
    yield s
    await s.close()


async def test_commit_is_atomic_and_round_trips_nested_documents(store):
    uow = store.unit_of_work("probe")
    doc = {"_id": "h1", "members": [{"id": "r1", "langs": ["ar", "de"]}], "search": {"rooms": 3}}
    uow.put("households", doc)
    uow.emit(Counted(resident_id="r1", total=1))
    uow.mark_processed("m1", b'{"status":"ok"}')
    await uow.commit()
    assert await store.db["households"].find_one({"_id": "h1"}) == {**doc, "_v": 1}
    assert await store.processed_ids(["m1", "m2"]) == {"m1": b'{"status":"ok"}'}
    [entry] = await store.pending_outbox(10)
    assert entry["subject"] == "im.evt.probe.counted.r1" and b'"total":1' in entry["body"]


async def test_a_stale_write_conflicts_and_changes_nothing(store):
    seed = store.unit_of_work("p")
    seed.put("c", {"_id": "x", "n": 0})
    await seed.commit()
    a, b = store.unit_of_work("p"), store.unit_of_work("p")
    for uow in (a, b):
        doc = await uow.get("c", "x")
        doc["n"] += 1
        uow.put("c", doc)
        uow.put("c", {"_id": f"side-{id(uow)}"})
        uow.emit(Counted(resident_id="x", total=doc["n"]))
    await a.commit()
    with pytest.raises(ConcurrencyConflict):
        await b.commit()
    assert (await store.db["c"].find_one({"_id": "x"}))["n"] == 1
    assert await store.db["c"].count_documents({}) == 2  # x and a's side document only
    assert len(await store.pending_outbox(10)) == 1


async def test_processed_id_twice_conflicts(store):
    first = store.unit_of_work("p")
    first.mark_processed("same")
    await first.commit()
    again = store.unit_of_work("p")
    again.put("c", {"_id": "y"})
    again.mark_processed("same")
    with pytest.raises(ConcurrencyConflict):
        await again.commit()
    assert await store.db["c"].find_one({"_id": "y"}) is None


async def test_concurrent_increments_lose_nothing(store):
    seed = store.unit_of_work("p")
    seed.put("c", {"_id": "k", "n": 0})
    await seed.commit()

    async def bump() -> None:
        while True:
            uow = store.unit_of_work("p")
            doc = await uow.get("c", "k")
            doc["n"] += 1
            uow.put("c", doc)
            try:
                await uow.commit()
                return
            except ConcurrencyConflict:
                await asyncio.sleep(0)

    await asyncio.gather(*(bump() for _ in range(20)))
    assert (await store.db["c"].find_one({"_id": "k"}))["n"] == 20


async def test_a_collection_first_written_by_a_conflicting_commit_stays_usable(store):
    seed = store.unit_of_work("p")
    seed.mark_processed("dup")
    await seed.commit()
    uow = store.unit_of_work("p")
    uow.put("brand_new", {"_id": "z"})
    uow.mark_processed("dup")
    with pytest.raises(ConcurrencyConflict):
        await uow.commit()
    assert await store.db["brand_new"].count_documents({}) == 0


async def test_counts_of_attempts_expire_with_command_records(store):
    """im_attempts held one document per message ever handled alone, for ever (#19)."""
    import time

    from im_runtime import processed

    now = time.time_ns()
    day = 86400 * 10**9
    await store.db["im_attempts"].insert_many([
        {"_id": "old", "n": 2, "at": now - 8 * day},
        {"_id": "recent", "n": 1, "at": now - day},
        {"_id": "before-times", "n": 3},  # written before attempts carried a time
    ])
    await store.db["im_processed"].insert_one({"_id": "an-event-id", "reply": None})
    assert await processed.expire(store, 7, now_ns=now) == 2
    assert [d["_id"] async for d in store.db["im_attempts"].find()] == ["recent"]
    assert await store.db["im_processed"].count_documents({"_id": "an-event-id"}) == 1
