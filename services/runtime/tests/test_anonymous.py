"""Anonymous stand-ins as the services' erasure hooks leave them, and the in-memory
store's search for what still mentions an erased resident."""

from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

from im_runtime.anonymous import (
    NOT_STAND_IN,
    STAND_IN,
    day,
    is_stand_in,
    is_stand_in_id,
    month,
    replace,
    stand_in_id,
    year_month,
)
from im_runtime.spec import Erased
from im_runtime.storage.filters import matches
from im_runtime.storage.memory import MemoryStore

pytestmark = pytest.mark.unit
AT = datetime(2026, 3, 17, 14, 5, 9, 123, tzinfo=UTC)


class TestStandIns:
    def test_ids_are_fresh_and_told_apart(self):
        first, second = stand_in_id(), stand_in_id()
        assert first != second
        assert is_stand_in_id(first) and not is_stand_in_id("r-7f3a") \
            and not is_stand_in_id(None)

    @pytest.mark.parametrize(("doc", "stand_in"), [
        ({"_id": "x", **STAND_IN}, True),
        ({"_id": "x"}, False),
        ({"_id": "x", "anonymised": None}, False),
        ({"_id": "x", "anonymised": False}, False),
    ])
    def test_the_filter_keeps_real_records_only(self, doc, stand_in):
        assert is_stand_in(doc) is stand_in
        assert matches(doc, NOT_STAND_IN) is not stand_in
        # beside a range, as retention's rules use it
        assert matches({**doc, "on": "2026-01-01"},
                       {**NOT_STAND_IN, "on": {"$lt": "2027-01-01"}}) is not stand_in


class TestCoarseDates:
    def test_a_time_is_cut_to_its_day(self):
        assert day(AT) == datetime(2026, 3, 17, tzinfo=UTC)
        assert day(None) is None

    @pytest.mark.parametrize("on", [AT, date(2026, 3, 17), "2026-03-17", "2026-03"])
    def test_a_date_is_cut_to_its_month(self, on):
        assert month(on) == "2026-03-01"
        assert year_month(on) == "2026-03"

    @pytest.mark.parametrize("on", [None, ""])
    def test_no_date_stays_none(self, on):
        assert month(on) is None and year_month(on) is None


class TestReplace:
    @pytest.fixture
    def store(self) -> MemoryStore:
        store = MemoryStore()
        store.collections["cases"] = {
            "c-1": {"_id": "c-1", "resident_id": "r-amira", "site_id": "s1", "note": "Amira"},
            "c-2": {"_id": "c-2", "resident_id": "r-amira", "site_id": "s2"}}
        return store

    async def replace_all(self, store: MemoryStore, keep: bool, prefix: str = "") -> Erased:
        """Every case by a stand-in keeping its site (or by nothing)."""
        done = Erased()
        uow = store.unit_of_work("probe")
        for doc in await uow.find("cases"):
            await replace(uow, "cases", doc, {"site_id": doc["site_id"]} if keep else None,
                          done, id=f"{prefix}{doc['_id']}" if prefix else None)
        await uow.commit()
        return done

    async def test_a_stand_in_holds_only_what_is_kept(self, store):
        assert store.mentions("r-amira") == ["cases/c-1", "cases/c-2"]
        done = await self.replace_all(store, keep=True)
        assert store.mentions(["r-amira", "AMIRA"]) == []
        stand_ins = sorted(store.collections["cases"].values(), key=lambda d: d["site_id"])
        assert [{k: v for k, v in d.items() if k not in ("_id", "_v")} for d in stand_ins] \
            == [{"anonymised": True, "site_id": "s1"}, {"anonymised": True, "site_id": "s2"}]
        assert all(is_stand_in_id(d["_id"]) for d in stand_ins)
        assert (done.removed, done.anonymised) == ({}, {"cases": 2})

    async def test_a_stand_in_can_take_an_id_the_caller_knows(self, store):
        await self.replace_all(store, keep=True, prefix="anon-known-")
        assert set(store.collections["cases"]) == {"anon-known-c-1", "anon-known-c-2"}

    async def test_without_anything_to_keep_the_document_goes(self, store):
        done = await self.replace_all(store, keep=False)
        assert store.collections["cases"] == {}
        assert (done.removed, done.anonymised) == ({"cases": 2}, {})


class TestMentions:
    def test_documents_are_found_by_any_term_in_any_case(self):
        store = MemoryStore()
        store.collections = {
            "residents": {"r-1": {"_id": "r-1", "name_key": "jürgen weiß"}},
            "notes": {"n-1": {"_id": "n-1", "at": AT, "by": "r-2"}}}
        assert store.mentions(["Jürgen"]) == ["residents/r-1"]
        assert store.mentions("r-1") == ["residents/r-1"]
        assert store.mentions(t for t in ("nobody", "R-2")) == ["notes/n-1"]
        assert store.mentions("2026-03-17") == ["notes/n-1"]  # dates as text
        assert store.document("notes/n-1")["by"] == "r-2"
