"""The unit of work against the in-memory fake: identity map, savepoints, conflicts."""

import pytest

from im_runtime.errors import ConcurrencyConflict
from im_runtime.storage.filters import UnsupportedFilter
from im_runtime.storage.memory import MemoryStore
from support.probe import Counted

pytestmark = pytest.mark.unit


async def test_commit_writes_documents_events_and_processed_ids_together():
    store = MemoryStore()
    uow = store.unit_of_work("probe")
    uow.put("counters", {"_id": "r1", "total": 1})
    uow.emit(Counted(resident_id="r1", total=1))
    uow.mark_processed("evt-1")
    entries = await uow.commit()
    assert store.collections["counters"]["r1"] == {"_id": "r1", "total": 1, "_v": 1}
    assert [e.subject for e in entries] == ["im.evt.probe.counted.r1"]
    assert store.outbox == entries and "evt-1" in store.processed


async def test_reads_see_own_writes_and_find_overlays_them():
    store = MemoryStore()
    seed = store.unit_of_work("p")
    seed.put("c", {"_id": "a", "site": "s1"})
    seed.put("c", {"_id": "b", "site": "s1"})
    await seed.commit()
    uow = store.unit_of_work("p")
    doc = await uow.get("c", "a")
    doc["site"] = "s2"
    uow.put("c", doc)
    uow.put("c", {"_id": "n", "site": "s1"})
    await uow.delete("c", "b")
    assert (await uow.get("c", "a"))["site"] == "s2"
    assert sorted(d["_id"] for d in await uow.find("c", {"site": "s1"})) == ["n"]
    assert await uow.count("c", {"site": {"$in": ["s1", "s2"]}}) == 2


async def test_savepoint_discards_one_message_changes_only():
    uow = MemoryStore().unit_of_work("p")
    uow.put("c", {"_id": "keep"})
    point = uow.savepoint()
    uow.put("c", {"_id": "drop"})
    uow.emit(Counted(resident_id="r", total=1))
    uow.rollback_to(point)
    assert await uow.get("c", "drop") is None
    assert uow.events == [] and await uow.get("c", "keep") == {"_id": "keep"}


async def test_concurrent_change_is_a_conflict():
    store = MemoryStore()
    first = store.unit_of_work("p")
    first.put("c", {"_id": "x", "n": 0})
    await first.commit()
    a, b = store.unit_of_work("p"), store.unit_of_work("p")
    for uow in (a, b):
        doc = await uow.get("c", "x")
        doc["n"] += 1
        uow.put("c", doc)
    await a.commit()
    with pytest.raises(ConcurrencyConflict):
        await b.commit()
    assert store.collections["c"]["x"]["n"] == 1


def test_documents_need_a_string_id():
    with pytest.raises(ValueError, match="string _id"):
        MemoryStore().unit_of_work("p").put("c", {"_id": 5})


async def test_a_document_found_then_put_is_an_update():
    store = MemoryStore()
    seed = store.unit_of_work("p")
    seed.put("c", {"_id": "f", "site": "s1", "n": 0})
    await seed.commit()
    uow = store.unit_of_work("p")
    [doc] = await uow.find("c", {"site": "s1"})
    doc["n"] = 1
    uow.put("c", doc)
    await uow.commit()
    assert store.collections["c"]["f"]["n"] == 1 and store.collections["c"]["f"]["_v"] == 2


def test_derived_ids_are_stable_and_distinct_for_look_alike_command_ids():
    from im_runtime.ids import derived

    a = derived("pt", "demo:register_participant:p:1:r-1")
    assert a == derived("pt", "demo:register_participant:p:1:r-1")
    assert a != derived("pt", "demo:register_participant:p:1:r-2")
    assert a.startswith("pt-") and len(a) == 19


async def test_rollback_restores_updated_and_deleted_documents_and_dirtiness():
    store = MemoryStore()
    seed = store.unit_of_work("p")
    seed.put("c", {"_id": "u", "n": 1, "tags": ["a"]})
    seed.put("c", {"_id": "d", "n": 1})
    await seed.commit()
    uow = store.unit_of_work("p")
    doc = await uow.get("c", "u")
    point = uow.savepoint()
    doc["n"] = 2
    doc["tags"].append("b")
    uow.put("c", doc)
    uow.put("c", {**doc, "n": 3})  # twice in one message: undone to before the first
    await uow.delete("c", "d")
    uow.rollback_to(point)
    assert await uow.get("c", "u") == {"_id": "u", "n": 1, "tags": ["a"], "_v": 1}
    assert (await uow.get("c", "d"))["n"] == 1
    assert uow.changes() == []  # nothing left to write


def test_clone_copies_containers_and_shares_immutable_leaves():
    from datetime import UTC, datetime

    from im_runtime.storage.unit_of_work import clone

    at = datetime(2026, 1, 2, tzinfo=UTC)
    doc = {"a": [{"b": 1}, "x"], "at": at, "raw": b"\x00", "s": {1, 2}}
    copied = clone(doc)
    assert copied == doc
    assert copied["a"] is not doc["a"] and copied["a"][0] is not doc["a"][0]
    assert copied["s"] is not doc["s"]  # anything else: a real deep copy
    assert copied["at"] is at
    copied["a"][0]["b"] = 2
    assert doc["a"][0]["b"] == 1


async def test_a_unit_prepared_during_a_commit_starts_from_what_it_will_have_written():
    store = MemoryStore()
    seed = store.unit_of_work("p")
    seed.put("c", {"_id": "kept", "site": "s1", "n": 0})
    seed.put("c", {"_id": "gone", "site": "s1"})
    await seed.commit()
    first = store.unit_of_work("p")
    doc = await first.get("c", "kept")
    first.put("c", {**doc, "n": 1})
    first.put("c", {"_id": "new", "site": "s1"})
    await first.delete("c", "gone")
    second = store.unit_of_work("p")
    second.adopt(first.carried())  # prepared while `first` is still committing
    assert (await second.get("c", "kept"))["n"] == 1
    assert await second.get("c", "gone") is None
    assert sorted(d["_id"] for d in await second.find("c", {"site": "s1"})) == ["kept", "new"]
    assert await second.count("c", {"site": "s1"}) == 2
    doc = await second.get("c", "kept")
    second.put("c", {**doc, "n": 2})
    await first.commit()
    await second.commit()  # its version check expects what `first` wrote
    assert store.collections["c"]["kept"]["n"] == 2 and "gone" not in store.collections["c"]


async def test_a_unit_prepared_on_a_commit_that_failed_conflicts():
    store = MemoryStore()
    seed = store.unit_of_work("p")
    seed.put("c", {"_id": "x", "n": 0})
    await seed.commit()
    first = store.unit_of_work("p")
    doc = await first.get("c", "x")
    first.put("c", {**doc, "n": 1})
    second = store.unit_of_work("p")
    second.adopt(first.carried())
    doc = await second.get("c", "x")
    second.put("c", {**doc, "n": 2})
    # `first` never commits: `second` must not write over what it did not see
    with pytest.raises(ConcurrencyConflict):
        await second.commit()
    assert store.collections["c"]["x"]["n"] == 0


async def test_an_unsaved_document_takes_its_place_in_sort_skip_and_limit():
    """With `b` committed and `a` unsaved, the first by `_id` is `a` (the overlay once
    appended unsaved documents after a limited, sorted answer: ['b', 'a'])."""
    store = MemoryStore()
    seed = store.unit_of_work("p")
    for id, n in (("b", 2), ("d", 4), ("e", 5)):
        seed.put("c", {"_id": id, "n": n})
    await seed.commit()
    uow = store.unit_of_work("p")
    uow.put("c", {"_id": "a", "n": 9})
    uow.put("c", {"_id": "c", "n": 3})
    await uow.delete("c", "d")
    ids = [d["_id"] for d in await uow.find("c", sort=[("_id", 1)], limit=1)]
    assert ids == ["a"]
    assert [d["_id"] for d in await uow.find("c", sort=[("_id", 1)], skip=1, limit=2)] == \
        ["b", "c"]
    assert [d["_id"] for d in await uow.find("c", sort=[("n", -1)])] == ["a", "e", "c", "b"]
    assert [d["_id"] for d in await uow.find("c", {"n": {"$gte": 3}}, sort=[("n", 1)],
                                             limit=2)] == ["c", "e"]
    assert await uow.count("c", {"n": {"$lt": 5}}) == 2


async def test_an_unsupported_operator_is_refused_whether_or_not_anything_is_unsaved():
    store = MemoryStore()
    clean = store.unit_of_work("p")
    with pytest.raises(UnsupportedFilter, match=r"\$regex"):
        await clean.find("c", {"name": {"$regex": "^A"}})
    with pytest.raises(UnsupportedFilter, match=r"\$or"):
        await clean.count("c", {"$or": [{"a": 1}]})
    dirty = store.unit_of_work("p")
    dirty.put("c", {"_id": "x", "name": "Amira"})
    with pytest.raises(UnsupportedFilter, match=r"\$regex"):
        await dirty.find("c", {"name": {"$regex": "^A"}})
    with pytest.raises(UnsupportedFilter, match="dotted"):
        await dirty.find("c", {"address.city": "Hannover"})
