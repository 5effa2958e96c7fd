"""The unit of work's overlay on the real MongoDB-wire server: unsaved documents take
their place in a sorted, skipped and limited find, as the committed whole would."""

from __future__ import annotations

import pytest

from im_runtime.storage.filters import UnsupportedFilter
from im_runtime.storage.mongo import MongoStore, StandaloneMongo, uses_transactions
from im_runtime.storage.transactions import SerialisedSavepoints

pytestmark = pytest.mark.integration


async def test_overlay_on_the_database_sorts_skips_and_limits_the_whole(settings, test_id):
    store = MongoStore(settings.mongo_url, f"{settings.db_prefix}overlay{test_id}")
    await store.start({})
    try:
        seed = store.unit_of_work("p")
        for id, n in (("b", 2), ("d", 4), ("e", 5)):
            seed.put("c", {"_id": id, "n": n})
        await seed.commit()
        uow = store.unit_of_work("p")
        uow.put("c", {"_id": "a", "n": 9})
        await uow.delete("c", "d")
        assert [d["_id"] for d in await uow.find("c", sort=[("_id", 1)], limit=1)] == ["a"]
        assert [d["_id"] for d in await uow.find("c", sort=[("n", 1)], skip=1)] == ["e", "a"]
        assert await uow.count("c", {"n": {"$gt": 1}}) == 3
        with pytest.raises(UnsupportedFilter):
            await store.unit_of_work("p").find("c", {"n": {"$mod": [2, 0]}})
        await uow.commit()  # and the mirror holds what the database holds
        assert [d["_id"] for d in store.mirror.find("c", {}, sort=[("n", -1)])] == \
            ["a", "e", "b"]
    finally:
        await store.client.drop_database(store.db.name)
        await store.close()


@pytest.mark.unit
def test_a_standalone_mongod_is_refused_with_what_to_do_and_no_password():
    standalone = {"isWritablePrimary": True, "maxWireVersion": 25}
    with pytest.raises(StandaloneMongo, match="replSet") as refused:
        uses_transactions(standalone, {"version": "8.0.4", "process": "mongod"},
                          "mongodb://im:s3cret@db.example:27017")
    assert "s3cret" not in str(refused.value) and "db.example:27017" in str(refused.value)
    assert uses_transactions({**standalone, "setName": "rs0"}, {}, "mongodb://x") is True
    assert uses_transactions({"msg": "isdbgrid"}, {}, "mongodb://x") is True
    assert uses_transactions(standalone, {"process": "nx_27017"}, "mongodb://x") is False


async def test_nx_27017_is_told_apart_by_what_it_says_of_itself(settings, test_id):
    store = MongoStore(settings.mongo_url, f"{settings.db_prefix}probe{test_id}")
    await store.start({})
    try:
        # the file-locked path, as `im up` runs it
        assert isinstance(store.transactions, SerialisedSavepoints)
    finally:
        await store.close()
