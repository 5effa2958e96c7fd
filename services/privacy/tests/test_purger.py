"""The ledger's worker with a real nats-server of its own and the in-memory store: the
resident's messages are erased at the request and again at the end (the request too),
the id is forgotten before the erasure is called complete, and a stream still starting
at sequence 1 (created before streams started at 2) holds the erasure open until
nats-server has rewritten its state file."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import timedelta
from typing import Any

import msgspec
import nats
import pytest
from nats.js.api import StreamConfig

from contracts import Actor, utcnow
from contracts import privacy as pv
from contracts import subjects as subj
from im_cli.embedded import NatsServer, throwaway_servers
from im_runtime import streams
from im_runtime.memory import MemoryStore
from im_runtime.spec import WorkerContext
from privacy import approval, ledger, purger

pytestmark = pytest.mark.integration
ADMIN = Actor(subject="admin-1", role="city_admin")


@pytest.fixture(scope="module")
def natsd() -> Iterator[NatsServer]:
    with throwaway_servers("im-purger-") as (server, _):
        yield server


@pytest.fixture
async def ctx(natsd: NatsServer) -> AsyncIterator[WorkerContext]:
    nc = await nats.connect(natsd.url)
    yield WorkerContext(nc=nc, js=nc.jetstream(), store=MemoryStore("privacy"),
                        settings=None, metrics=None)
    await nc.close()


async def requested(ctx: WorkerContext, rid: str) -> str:
    """The request as the ledger takes it, and its event relayed to the bus."""
    store: MemoryStore = ctx.store
    await store.run(ledger.request_erasure, pv.RequestErasure(
        resident_id=rid, category="subject_request", reason="Art. 17 GDPR", actor=ADMIN,
        command_id=f"c-{rid}"))
    status = await store.run(approval.approve_erasure, pv.ApproveErasure(
        resident_id=rid, actor=Actor(subject="admin-2", role="city_admin"),
        command_id=f"c-{rid}-approve"))
    await streams.ensure(ctx.js, streams.event_stream(pv.SERVICE, 1, 120.0))
    for entry in store.outbox:
        await ctx.js.publish(entry.subject, msgspec.json.encode(entry.body))
    return str(status.erasure_id)


async def entry(ctx: WorkerContext, erasure_id: str) -> dict[str, Any]:
    doc = await ctx.store.unit_of_work("privacy").get(ledger.ERASURES, erasure_id)
    assert doc is not None
    return dict(doc)


async def about(ctx: WorkerContext, stream: str, rid: str) -> int:
    info = await ctx.js.stream_info(stream, subjects_filter=f"im.*.*.*.{rid}")
    return sum((info.state.subjects or {}).values())


async def test_erased_at_the_request_and_at_the_end_the_request_included(
        ctx: WorkerContext) -> None:
    rid = "r-purger-1"
    await streams.ensure(ctx.js, streams.event_stream("housing", 1, 120.0))
    await ctx.js.publish(subj.event("housing", "resident_registered", rid), b"{}")
    erasure_id = await requested(ctx, rid)
    await purger.tick(ctx)  # the first look: no service consumes requests here
    first = await entry(ctx, erasure_id)
    assert first["expected"] == [] and first["pending_resident"] == rid
    assert first["reason"] == "Art. 17 GDPR"  # the free text stays while the erasure runs
    assert await about(ctx, "IM_EVT_HOUSING", rid) == 0
    assert await about(ctx, "IM_EVT_PRIVACY", rid) == 1  # the request stays for now
    await purger.tick(ctx)  # everyone expected confirmed: the end
    done = await entry(ctx, erasure_id)
    assert done["complete"] and done["pending_resident"] is None
    assert done["reason"] is None and done["category"] == "subject_request"
    assert await about(ctx, "IM_EVT_PRIVACY", rid) == 0
    assert {p["stream"] for p in done["purges"]} == {"IM_EVT_HOUSING", "IM_EVT_PRIVACY"}


async def test_a_stream_from_sequence_1_holds_the_erasure_open_until_its_state_is_rewritten(
        ctx: WorkerContext) -> None:
    rid = "r-purger-2"
    legacy = "IM_EVT_LEGACY"  # as created before streams started at sequence 2
    await ctx.js.add_stream(StreamConfig(name=legacy, subjects=["im.evt.legacy.>"]))
    await ctx.js.publish("im.evt.legacy.thing_happened.r-someone-else", b"{}")
    await ctx.js.publish(f"im.evt.legacy.thing_happened.{rid}", b"{}")
    erasure_id = await requested(ctx, rid)
    await purger.tick(ctx)
    await purger.tick(ctx)
    waiting = await entry(ctx, erasure_id)
    assert await about(ctx, legacy, rid) == 0
    assert waiting["pending_resident"] is None and not waiting["complete"]
    assert waiting["settle_by"] > utcnow() + timedelta(seconds=100)
    # once nats-server's own flush is due, the next look closes it
    uow = ctx.store.unit_of_work("privacy")
    doc = await uow.get(ledger.ERASURES, erasure_id)
    doc["settle_by"] = utcnow() - timedelta(seconds=1)
    uow.put(ledger.ERASURES, doc)
    await uow.commit()
    await purger.tick(ctx)
    assert (await entry(ctx, erasure_id))["complete"]


async def test_messages_arriving_after_the_erasure_are_erased_by_the_sweep(
        ctx: WorkerContext) -> None:
    rid = "r-purger-3"
    await streams.ensure(ctx.js, streams.ops_stream(1, 120.0))
    erasure_id = await requested(ctx, rid)
    await purger.tick(ctx)
    await purger.tick(ctx)
    assert (await entry(ctx, erasure_id))["complete"]
    # an operator's system sends the resident's session again, after the erasure
    await ctx.js.publish(subj.operator_event("op-1", "session_recorded", rid), b"late")
    await ctx.js.publish(subj.operator_event("op-1", "session_recorded", "r-stays"), b"ok")
    assert await about(ctx, subj.OPS_STREAM, rid) == 1
    assert await purger.sweep_late(ctx) == {subj.OPS_STREAM: 1}
    assert await about(ctx, subj.OPS_STREAM, rid) == 0
    assert await about(ctx, subj.OPS_STREAM, "r-stays") == 1
    assert await purger.sweep_late(ctx) == {}  # nothing more to find


async def test_late_messages_naming_an_erased_staff_member_are_erased_by_the_sweep(
        ctx: WorkerContext) -> None:
    staff = "sw-purger-4"
    stream = subj.event_stream("housing")
    await streams.ensure(ctx.js, streams.event_stream("housing", 1, 120.0))
    await ctx.store.run(ledger.request_erasure, pv.RequestErasure(
        resident_id=staff, category="subject_request", person="staff", actor=ADMIN,
        command_id=f"c-{staff}"))
    await ctx.store.run(approval.approve_erasure, pv.ApproveErasure(
        resident_id=staff, actor=Actor(subject="admin-2", role="city_admin"),
        command_id=f"c-{staff}-approve"))
    await purger.tick(ctx)
    await purger.tick(ctx)
    assert await purger.sweep_late(ctx) == {}  # sets the cursors: nothing late yet
    # housing's outbox replays her deployment after the erasure; its subject names no one
    late = {"id": "e-1", "source": "housing", "type": "im.housing.staff_assigned.v1",
            "data": {"staff_id": staff, "site_ids": ["s-1"]}}
    other = {**late, "id": "e-2", "data": {"staff_id": "sw-stays", "site_ids": [staff + "x"]}}
    for body in (late, other):
        await ctx.js.publish(subj.event("housing", "staff_assigned"), msgspec.json.encode(body))
    await ctx.js.publish(subj.event("housing", "staff_assigned"), b"not json")
    assert await purger.sweep_late(ctx) == {stream: 1}
    left = [msgspec.json.decode(m.data) if m.data != b"not json" else None
            for m in await read_all(ctx, stream)]
    assert [b and b["id"] for b in left] == ["e-2", None]
    assert await purger.sweep_late(ctx) == {}  # the cursor moved on: nothing read twice


async def read_all(ctx: WorkerContext, stream: str) -> list[Any]:
    info = await ctx.js.stream_info(stream)
    out = []
    for seq in range(info.state.first_seq, info.state.last_seq + 1):
        try:
            out.append(await ctx.js.get_msg(stream, seq))
        except nats.js.errors.NotFoundError:
            continue
    return out


async def test_a_request_awaiting_approval_does_not_go_out(ctx: WorkerContext) -> None:
    rid = "r-purger-3"
    store: MemoryStore = ctx.store
    asked = await store.run(ledger.request_erasure, pv.RequestErasure(
        resident_id=rid, category="other", actor=ADMIN, command_id=f"c-{rid}"))
    assert asked.state == "awaiting_approval" and not store.outbox
    await purger.tick(ctx)
    waiting = await entry(ctx, asked.erasure_id)
    assert waiting["expected"] is None and waiting["purges"] == []
    assert waiting["pending_resident"] == rid
