"""Reads are reads, with the real NATS and MongoDB-wire servers: a read command and a query
are answered from the service's in-memory read model and write nothing; two instances
of one service see each other's writes within a stated bound."""

from __future__ import annotations

import dataclasses
import time

import msgspec
import pytest

from contracts import subjects as subj
from im_cli.testing import eventually
from im_runtime import Handles
from im_runtime.service import ServiceRuntime
from im_runtime.settings import Settings
from support.probe import Add, Overview, Total, overview, spec

pytestmark = pytest.mark.integration

# A write through one instance is readable through another within this (the notice is one
# core-NATS message and the reload one `find`: milliseconds; the bound allows a busy CI).
VISIBLE_WITHIN = 2.0


async def read_total(cmd: Add, uow) -> Total:  # a read command: what `add` would have added to
    doc = await uow.get("counters", cmd.resident_id)
    return Total(resident_id=cmd.resident_id, total=doc["total"] if doc else 0)


reading = dataclasses.replace(spec, commands=(*spec.commands, Handles(
    "get_total", Add, read_total, Total, read=True)))


async def snapshot(rt: ServiceRuntime) -> dict[str, list[tuple[str, int]]]:
    db = rt.store.db
    out = {}
    for name in sorted(await db.list_collection_names()):
        docs = await db[name].find({}, {"_v": 1}).to_list(None)
        out[name] = sorted((d["_id"], d.get("_v", 0)) for d in docs)
    return out


async def request(nc, service: str, name: str, body: object) -> dict:
    msg = await nc.request(subj.command(service, name), msgspec.json.encode(body), timeout=10)
    return msgspec.json.decode(msg.data)


@pytest.fixture
async def pair(settings: Settings):
    """Two instances of one service, sharing its database."""
    a = ServiceRuntime(reading, dataclasses.replace(settings, instance_id="probe-a"))
    b = ServiceRuntime(reading, dataclasses.replace(settings, instance_id="probe-b"))
    await a.start()
    await b.start()
    yield a, b
    await b.stop()
    await a.stop()


async def test_reads_write_nothing_and_store_no_reply(pair, nc, test_id):
    a, _ = pair
    rid = f"r{test_id}"
    assert (await request(nc, "probe", "add", Add(resident_id=rid, by=4,
                                                   command_id=f"c{test_id}")))["total"] == 4
    # either instance may have taken it: the other reads it once its notice is in
    await eventually(lambda: _total_is(nc, Add(resident_id=rid), 4), timeout=VISIBLE_WITHIN)
    await eventually(lambda: _total_is(nc, Add(resident_id=rid), 4), timeout=VISIBLE_WITHIN)
    before = await snapshot(a)
    for i in range(200):
        reply = await request(nc, "probe", "get_total",
                              Add(resident_id=rid, by=1, command_id=f"read{i}"))
        assert reply["total"] == 4
        answer = await nc.request(subj.query("resident_overview"),
                                  msgspec.json.encode(Overview(resident_id=rid)), timeout=10)
        assert msgspec.json.decode(answer.data)["section"] == {"total": 4}
    assert await snapshot(a) == before  # no processed id, no reply, no outbox entry


async def test_a_read_command_repeated_with_one_id_is_answered_afresh(pair, nc, test_id):
    rid = f"r{test_id}"
    read = Add(resident_id=rid, by=1, command_id=f"same{test_id}")
    assert (await request(nc, "probe", "get_total", read))["total"] == 0
    await request(nc, "probe", "add", Add(resident_id=rid, by=2, command_id=f"c{test_id}"))
    await eventually(lambda: _total_is(nc, read, 2), timeout=VISIBLE_WITHIN)


async def _total_is(nc, read: Add, want: int) -> bool:
    return (await request(nc, "probe", "get_total", read))["total"] == want


async def test_a_write_through_one_instance_is_read_through_the_other(pair, test_id):
    a, b = pair
    for n in range(20):
        rid = f"r{test_id}-{n}"
        uow = a.store.unit_of_work("probe")
        uow.put("counters", {"_id": rid, "total": n})
        written = time.monotonic()
        await uow.commit()
        assert await overview(Overview(resident_id=rid), a.store.reader("probe")) == {"total": n}

        async def seen_by_b(rid: str = rid, n: int = n) -> bool:
            return await overview(Overview(resident_id=rid),
                                  b.store.reader("probe")) == {"total": n}

        await eventually(seen_by_b, timeout=VISIBLE_WITHIN, interval=0.002)
        lag = time.monotonic() - written
        assert lag < VISIBLE_WITHIN
    # and a delete travels the same way
    uow = b.store.unit_of_work("probe")
    await uow.delete("counters", f"r{test_id}-0")
    await uow.commit()

    async def gone_in_a() -> bool:
        return await a.store.reader("probe").get("counters", f"r{test_id}-0") is None

    await eventually(gone_in_a, timeout=VISIBLE_WITHIN, interval=0.002)


async def test_a_lost_notice_is_made_good_by_the_resync(pair, test_id):
    a, b = pair
    rid = f"r{test_id}"
    a.store.on_commit = None  # the notice never goes out (say, the bus was away)
    uow = a.store.unit_of_work("probe")
    uow.put("counters", {"_id": rid, "total": 7})
    await uow.commit()
    assert await b.store.reader("probe").get("counters", rid) is None
    assert await b.store.resync() >= 1
    assert (await b.store.reader("probe").get("counters", rid))["total"] == 7
    assert await b.store.resync() == 0  # nothing left to reload
