"""The in-memory store's helpers for handler tests: one message through a handler in a
unit of work of the store's service."""

from datetime import UTC, datetime
from typing import Any

import pytest

from contracts import CloudEvent
from im_runtime import DomainError, UnitOfWork
from im_runtime.storage.memory import MemoryStore
from im_runtime.storage.reader import ReadOnly
from support.probe import Add, Counted, Overview, Pinged, Total, add, on_pinged, overview

pytestmark = pytest.mark.unit


async def test_feed_commits_what_the_event_handler_did_and_gives_the_events_it_emitted():
    store = MemoryStore("probe")
    assert await store.feed(on_pinged, Pinged(resident_id="r1", by=2), "tester") == [
        Counted(resident_id="r1", total=2)]
    assert store.collections["counters"]["r1"]["total"] == 2
    assert [e.subject for e in store.outbox] == ["im.evt.probe.counted.r1"]


async def test_feed_wraps_the_data_at_the_given_time_and_id_or_now_and_a_new_id():
    seen: list[CloudEvent[Any]] = []

    async def keep(event: CloudEvent[Any], uow: UnitOfWork) -> None:
        assert uow.source == "probe"
        seen.append(event)

    store, at = MemoryStore("probe"), datetime(2026, 3, 2, 12, tzinfo=UTC)
    await store.feed(keep, Pinged(resident_id="r1"), "tester", at, id="evt-1")
    before = datetime.now(UTC)
    await store.feed(keep, Pinged(resident_id="r1"), "tester")
    given, default = seen
    assert (given.source, given.time, given.id, given.subject) == ("tester", at, "evt-1", "r1")
    assert before <= default.time <= datetime.now(UTC) and default.id not in ("", "evt-1")


async def test_run_commits_and_gives_the_reply_handle_the_reply_and_the_events():
    store = MemoryStore("probe")
    assert await store.run(add, Add(resident_id="r1", by=3)) == Total(resident_id="r1", total=3)
    assert await store.handle(add, Add(resident_id="r1")) == (
        Total(resident_id="r1", total=4), [Counted(resident_id="r1", total=4)])
    assert store.collections["counters"]["r1"]["total"] == 4 and len(store.outbox) == 2


async def test_a_refused_command_leaves_nothing():
    store = MemoryStore("probe")
    with pytest.raises(DomainError):
        await store.run(add, Add(resident_id="r1", by=0))
    assert store.collections == {} and store.outbox == []


async def test_ask_reads_on_a_view_that_refuses_every_write():
    async def writes(query: Overview, uow: UnitOfWork) -> str:
        uow.put("counters", {"_id": query.resident_id, "total": 9})
        return query.resident_id

    async def emits(query: Overview, uow: UnitOfWork) -> str:
        uow.emit(Counted(resident_id=query.resident_id, total=1))
        return query.resident_id

    store = MemoryStore("probe")
    assert await store.ask(overview, Overview(resident_id="r1")) is None
    await store.run(add, Add(resident_id="r1"))
    assert await store.ask(overview, Overview(resident_id="r1")) == {"total": 1}
    with pytest.raises(ReadOnly, match="write counters"):
        await store.ask(writes, Overview(resident_id="r2"))
    with pytest.raises(ReadOnly, match="emit"):
        await store.ask(emits, Overview(resident_id="r2"))
    assert "r2" not in store.collections["counters"]
    assert [e.subject for e in store.outbox] == ["im.evt.probe.counted.r1"]  # add's own


async def test_the_helpers_need_the_service_name():
    with pytest.raises(TypeError, match="service"):
        await MemoryStore().run(add, Add(resident_id="r1"))
