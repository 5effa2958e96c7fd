"""The in-memory read model: what a read gets from it equals what the documents say,
whatever changes came before; counts and tallies stay right as documents change."""

from __future__ import annotations

import random
from collections import Counter
from typing import Any

import pytest

from im_runtime.storage.filters import matches
from im_runtime.storage.mirror import Mirror
from im_runtime.storage.reader import Reader, ReadOnly


def doc(id: str, **fields: Any) -> dict[str, Any]:
    return {"_id": id, "_v": 1, **fields}


def test_find_uses_sort_skip_and_limit_with_missing_values_first_as_mongodb():
    m = Mirror()
    m.load("r", [doc("b", n=2), doc("a", n=3), doc("c"), doc("d", n=1)])
    assert [d["_id"] for d in m.find("r", {}, sort=[("n", 1)])] == ["c", "d", "b", "a"]
    assert [d["_id"] for d in m.find("r", {}, sort=[("n", -1)])] == ["a", "b", "d", "c"]
    assert [d["_id"] for d in m.find("r", {}, sort=[("_id", 1)], skip=1, limit=2)] == ["b", "c"]


def test_a_filter_on_an_array_field_matches_an_element_and_counts_by_its_index():
    m = Mirror()
    m.load("v", [doc("v1", districts=["Mitte", "Linden"]), doc("v2", districts=["Mitte"]),
                 doc("v3", districts=[])])
    assert {d["_id"] for d in m.find("v", {"districts": "Mitte"})} == {"v1", "v2"}
    assert m.count("v", {"districts": "Linden"}) == 1
    m.put("v", "v3", doc("v3", _v=2, districts=["Linden"]))
    assert m.count("v", {"districts": "Linden"}) == 2
    assert {d["_id"] for d in m.find("v", {"districts": {"$in": ["Linden"]}})} == {"v1", "v3"}


def test_apply_gives_each_document_the_version_its_commit_gave_it():
    m = Mirror()
    m.apply([("r", "a", {"_id": "a", "x": 1}, None), ("r", "b", {"_id": "b"}, 4)])
    assert m.get("r", "a") == {"_id": "a", "x": 1, "_v": 1}
    assert m.get("r", "b")["_v"] == 5
    m.apply([("r", "a", None, 1)])
    assert m.get("r", "a") is None and m.count("r", {}) == 1


def test_a_reloaded_document_does_not_replace_a_newer_one_of_this_instance():
    m = Mirror()
    m.load("r", [doc("a", _v=3, x="mine")])
    m.refresh("r", "a", doc("a", _v=2, x="older"))
    assert m.get("r", "a")["x"] == "mine"
    m.refresh("r", "a", doc("a", _v=4, x="theirs"))
    assert m.get("r", "a")["x"] == "theirs"
    m.refresh("r", "a", None)  # deleted there
    assert m.get("r", "a") is None


STATES = ["open", "closed", None]
SITES = ["s1", "s2", "s3"]


@pytest.mark.parametrize("seed", range(5))
def test_counts_tallies_and_finds_equal_a_scan_after_any_series_of_changes(seed: int):
    rng = random.Random(seed)
    m = Mirror()
    truth: dict[str, dict[str, Any]] = {}
    m.load("c", [])
    # asked before the changes, so the tallies and indexes are kept up as they happen
    m.count("c", {"site_id": "s1", "state": "open"})
    m.tally("c", "state", {"site_id": "s2"})
    m.find("c", {"site_id": "s3"})
    for step in range(400):
        id = f"d{rng.randrange(40)}"
        if rng.random() < 0.2:
            truth.pop(id, None)
            m.put("c", id, None)
        else:
            new = doc(id, _v=step, site_id=rng.choice(SITES), state=rng.choice(STATES),
                      tags=rng.sample(SITES, rng.randrange(3)))
            if rng.random() < 0.1:
                del new["state"]  # a missing field counts as None, as in MongoDB
            truth[id] = new
            m.put("c", id, new)
    for site in SITES:
        for state in STATES:
            flt = {"site_id": site, "state": state}
            want = [d for d in truth.values() if matches(d, flt)]
            assert m.count("c", flt) == len(want)
            assert {d["_id"] for d in m.find("c", flt)} == {d["_id"] for d in want}
        assert m.tally("c", "state", {"site_id": site}) == dict(Counter(
            d.get("state") for d in truth.values() if d["site_id"] == site))
        assert m.count("c", {"tags": site}) == sum(site in d["tags"] for d in truth.values())
    assert m.tally("c", ("site_id", "state")) == dict(Counter(
        (d["site_id"], d.get("state")) for d in truth.values()))
    assert m.count("c", {}) == len(truth)
    assert m.count("c", {"state": {"$ne": "open"}}) == sum(
        d.get("state") != "open" for d in truth.values())


async def test_a_reader_refuses_every_write_and_clones_what_it_gives():
    m = Mirror()
    m.load("r", [doc("a", items=[1])])
    reader = Reader(m, "probe")
    got = await reader.get("r", "a")
    assert got is not None
    got["items"].append(2)
    assert m.get("r", "a")["items"] == [1]
    with pytest.raises(ReadOnly):
        reader.put("r", {"_id": "b"})
    with pytest.raises(ReadOnly):
        await reader.delete("r", "a")
    with pytest.raises(ReadOnly):
        await reader.commit()
    assert await reader.tally("r", "items") == {}  # an array is no tally key
    assert await reader.count("r") == 1
