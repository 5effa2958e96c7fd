"""Fault tests with the real servers: retries and dead letters, malformed messages,
a crash between commit and publish, and two instances sharing one durable consumer."""

from __future__ import annotations

import base64
from dataclasses import replace
from typing import Any

import httpx
import msgspec
import nats.errors
import pytest
from pymongo import AsyncMongoClient

from contracts import subjects as subj
from contracts import wrap
from contracts.platform import DeadLetter
from im_cli.testing import STARTUP, eventually, started
from im_runtime.pipeline.events import ISOLATE_FROM
from im_runtime.service import ServiceRuntime, consumer_name
from im_runtime.storage.mongo_unit import OUTBOX
from im_runtime.undelivered import backstop
from support import probe as probe_module
from support.probe import Add, Pinged, Total, spec

pytestmark = pytest.mark.integration

SOURCE_STREAM = subj.event_stream("tester")
DURABLE = consumer_name("probe", "tester")
PROBE_STREAM = subj.event_stream("probe")
PROBE = "support.probe:spec"


# helpers ------------------------------------------------------------------------------

async def publish(js: Any, data: Pinged, **kw: Any) -> Any:
    event = wrap(data, source="tester", **kw)
    await js.publish(subj.event("tester", "pinged", data.resident_id),
                     msgspec.json.encode(event), headers={"Nats-Msg-Id": event.id})
    return event


async def total(rt: ServiceRuntime, rid: str) -> int:
    doc = await rt.store.db["counters"].find_one({"_id": rid})
    return int(doc["total"]) if doc else 0


async def settled(js: Any) -> bool:
    """The probe's durable consumer has nothing left to deliver and nothing unacked."""
    info = await js.consumer_info(SOURCE_STREAM, DURABLE)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def dead_letters(js: Any, subject: str) -> list[DeadLetter]:
    """Every dead letter the probe sent about messages on `subject` (read from IM_DLQ)."""
    dlq = subj.dead_letters_of("probe")
    info = await js.stream_info(subj.DLQ_STREAM, subjects_filter=dlq)
    if not info.state.subjects:
        return []
    sub = await js.subscribe(dlq, ordered_consumer=True)
    out: list[DeadLetter] = []
    try:
        while True:
            msg = await sub.next_msg(timeout=5)
            letter = msgspec.json.decode(msg.data, type=DeadLetter)
            if letter.subject == subject:
                out.append(letter)
            if msg.metadata.num_pending == 0:
                return out
    finally:
        await sub.unsubscribe()


async def count_on(js: Any, stream: str, subject: str) -> int:
    info = await js.stream_info(stream, subjects_filter=subject)
    return int((info.state.subjects or {}).get(subject, 0))


async def scrape(health: str, name: str) -> float:
    """Sum of every sample of metric `name` on an instance's /metrics."""
    async with httpx.AsyncClient() as client:
        text = (await client.get(f"{health}/metrics", timeout=5)).text
    return sum(float(line.rsplit(" ", 1)[1]) for line in text.splitlines()
               if line.startswith((name + "{", name + " ")))


async def equals(value: Any, want: Any) -> bool:
    return (await value) == want


async def not_lost(js: Any, counters: Any, subject: str) -> None:
    """Right after a crash between the commit and the publish: the event is in its stream
    or still in the outbox, and in the stream at most once. Either side is right: the
    relay's 1 s poll may publish in the moment between the commit and the failpoint."""
    in_stream = await count_on(js, PROBE_STREAM, subject)
    waiting = await counters.database[OUTBOX].count_documents({"subject": subject})
    assert in_stream <= 1 and in_stream + waiting >= 1, (in_stream, waiting)


async def sent_once(js: Any, counters: Any, subject: str) -> None:
    """After the restart: the relay has emptied the outbox and the event is in its
    stream exactly once (an entry sent again is dropped by its Nats-Msg-Id)."""
    outbox = counters.database[OUTBOX]
    await eventually(lambda: equals(outbox.count_documents({"subject": subject}), 0),
                     timeout=30)
    assert await count_on(js, PROBE_STREAM, subject) == 1


def logs_of(tmp_path: Any) -> str:
    return "\n".join(f"--- {p.name}\n{p.read_text(errors='replace')[-3000:]}"
                     for p in sorted(tmp_path.glob("*.log")))


@pytest.fixture
async def probe(settings):
    rt = ServiceRuntime(spec, settings)
    await rt.start()
    yield rt
    await rt.stop()


@pytest.fixture
async def counters(settings):
    client: AsyncMongoClient[Any] = AsyncMongoClient(settings.mongo_url)
    yield client[settings.db_prefix + "probe"]["counters"]
    await client.close()


# 1. retries, then the dead-letter queue -----------------------------------------------

async def test_failing_handler_is_retried_then_dead_lettered(probe, nc, test_id):
    js = nc.jetstream()
    rid = f"r{test_id}"
    flaky = await publish(js, Pinged(resident_id=rid, by=2, fail_times=1))
    assert await eventually(lambda: total(probe, rid)) == 2
    await eventually(lambda: settled(js))
    assert probe_module.attempts[flaky.id] == 2  # one failure, one success
    assert await total(probe, rid) == 2
    # The outbox relay publishes after the commit: the event may come a moment later.
    assert await eventually(
        lambda: count_on(js, PROBE_STREAM, subj.event("probe", "counted", rid))) == 1

    hopeless = await publish(js, Pinged(resident_id=rid, by=100, fail_times=99))
    letters = await eventually(lambda: dead_letters(js, subj.event("tester", "pinged", rid)))
    await eventually(lambda: settled(js))
    assert len(letters) == 1
    letter = letters[0]
    assert letter.service == "probe"
    assert letter.deliveries == 3
    assert letter.reason == "failed 3 times: RuntimeError: planned failure 3 of 99"
    assert letter.stream == SOURCE_STREAM
    assert letter.body_encoding == "utf-8"
    assert msgspec.json.decode(letter.body) == msgspec.to_builtins(hopeless)
    assert probe_module.attempts[hopeless.id] == 3  # terminated: no fourth delivery
    assert await total(probe, rid) == 2

    await publish(js, Pinged(resident_id=rid, by=4))
    await eventually(lambda: equals(total(probe, rid), 6))
    assert len(await dead_letters(js, subj.event("tester", "pinged", rid))) == 1


# 2. a rejected event is dead-lettered at once -------------------------------------------

async def test_rejected_event_is_dead_lettered_at_once(probe, nc, test_id, caplog):
    js = nc.jetstream()
    rid = f"r{test_id}"
    with caplog.at_level("WARNING", logger="im.dlq"):
        rejected = await publish(js, Pinged(resident_id=rid, reject=True))
        letters = await eventually(
            lambda: dead_letters(js, subj.event("tester", "pinged", rid)))
    # the log names the subject's template, never the resident (issue #18, 9)
    logged = [r for r in caplog.records if r.name == "im.dlq"]
    assert logged and all(rid not in r.getMessage() + str(vars(r)) for r in logged)
    assert {getattr(r, "subject", None) for r in logged} == {
        "im.evt.tester.pinged.{resident_id}"}
    await eventually(lambda: settled(js))
    assert [(d.deliveries, d.reason) for d in letters] == [
        (1, "rejected: this ping asks to be rejected")]
    assert msgspec.json.decode(letters[0].body)["id"] == rejected.id
    assert probe_module.attempts[rejected.id] == 1
    assert await total(probe, rid) == 0


# 3. malformed messages ----------------------------------------------------------------

def _envelope(rid: str, **over: Any) -> dict[str, Any]:
    event = msgspec.to_builtins(wrap(Pinged(resident_id=rid, by=1), source="tester"))
    data = over.pop("data", {})
    event.update(over)
    event["data"].update(data)
    return event


MALFORMED = {
    "not_json": (lambda rid: b"\xff\xfe{ not json",
                 ["malformed", "JSON is malformed"]),
    "wrong_field_type": (lambda rid: msgspec.json.encode(_envelope(rid, data={"by": "three"})),
                         ["malformed", "Expected `int`, got `str`", "$.data.by"]),
    "envelope_type_mismatch": (
        lambda rid: msgspec.json.encode(_envelope(rid, type="im.tester.poked.v1")),
        ["malformed", "envelope type 'im.tester.poked.v1' does not match data type "
                      "'im.tester.pinged.v1'"]),
    "unknown_type": (
        lambda rid: msgspec.json.encode(_envelope(rid, type="im.tester.unknown.v1",
                                                  data={"type": "im.tester.unknown.v1"})),
        ["malformed", "im.tester.unknown.v1", "$.data.type"]),
    "oversize": (
        lambda rid: msgspec.json.encode({**_envelope(rid),
                                         "pad": "x" * (spec.max_message_bytes + 1)}),
        ["malformed", "exceeds", str(spec.max_message_bytes)]),
}


@pytest.mark.parametrize("case", list(MALFORMED))
async def test_malformed_message_is_dead_lettered_and_service_goes_on(probe, nc, test_id, case):
    js = nc.jetstream()
    rid = f"m{test_id}"
    subject = subj.event("tester", "pinged", rid)
    make, fragments = MALFORMED[case]
    body = make(rid)
    await js.publish(subject, body)
    letters = await eventually(lambda: dead_letters(js, subject))
    assert len(letters) == 1
    letter = letters[0]
    for fragment in fragments:
        assert fragment in letter.reason, letter.reason
    assert letter.deliveries == 1
    raw = (base64.b64decode(letter.body) if letter.body_encoding == "base64"
           else letter.body.encode())
    assert raw == body

    await publish(js, Pinged(resident_id=rid, by=7))
    assert await eventually(lambda: total(probe, rid)) == 7
    await eventually(lambda: settled(js))
    assert len(await dead_letters(js, subject)) == 1


# 4. a crash between the database commit and the publish -------------------------------
# What these prove: the effect is committed once, its event is never lost (in the stream
# or in the outbox at the crash, in the stream after the restart) and never duplicated,
# and the message or command that came back is answered from what was committed.

@pytest.mark.timeout(300)  # processes started twice, on a loaded machine too
async def test_crash_after_commit_of_an_event(spawn, nc, counters, test_id, tmp_path):
    js = nc.jetstream()
    rid = f"x{test_id}"
    counted = subj.event("probe", "counted", rid)
    # ack_wait 1 s, so the message the dead process held comes back within the test
    doomed = spawn(PROBE, IM_FAILPOINT="exit_after_commit", IM_ACK_WAIT="1")
    await started(nc, "probe", 1)
    await publish(js, Pinged(resident_id=rid, by=3))
    assert await eventually(lambda: doomed.poll() is not None, timeout=STARTUP) \
        and doomed.returncode == 70, logs_of(tmp_path)
    # It died with the effect committed, before it acked the message.
    assert (await counters.find_one({"_id": rid}))["total"] == 3
    await not_lost(js, counters, counted)

    again = spawn(PROBE, IM_ACK_WAIT="1")
    (instance,) = await started(nc, "probe", 1)
    assert await eventually(lambda: count_on(js, PROBE_STREAM, counted), timeout=60) == 1
    # The event comes back after ack_wait and is skipped as already handled.
    await eventually(lambda: scrape(instance.metadata["health"], "im_events_duplicate_total"),
                     timeout=60)
    await eventually(lambda: settled(js), timeout=60)
    assert (await counters.find_one({"_id": rid}))["total"] == 3
    await sent_once(js, counters, counted)
    assert again.poll() is None, logs_of(tmp_path)


@pytest.mark.timeout(300)  # processes started twice, on a loaded machine too
async def test_crash_after_commit_of_a_command(spawn, nc, counters, test_id, tmp_path):
    js = nc.jetstream()
    rid = f"c{test_id}"
    counted = subj.event("probe", "counted", rid)
    cmd = msgspec.json.encode(Add(resident_id=rid, by=4))
    doomed = spawn(PROBE, IM_FAILPOINT="exit_after_commit")
    await started(nc, "probe", 1)
    with pytest.raises(nats.errors.TimeoutError):  # it dies before it replies
        await nc.request(subj.command("probe", "add"), cmd, timeout=2)
    assert await eventually(lambda: doomed.poll() is not None, timeout=STARTUP) \
        and doomed.returncode == 70, logs_of(tmp_path)
    assert (await counters.find_one({"_id": rid}))["total"] == 4
    await not_lost(js, counters, counted)

    spawn(PROBE)
    await started(nc, "probe", 1)
    # The same command again is answered from what was committed, not applied twice
    # (a generous bound for a freshly started process's first answer under load).
    reply = await nc.request(subj.command("probe", "add"), cmd, timeout=30)
    assert reply.data == msgspec.json.encode(Total(resident_id=rid, total=4))
    assert await eventually(lambda: count_on(js, PROBE_STREAM, counted), timeout=60) == 1
    assert (await counters.find_one({"_id": rid}))["total"] == 4
    await sent_once(js, counters, counted)


# 5. two instances share the work of one durable consumer ------------------------------

@pytest.mark.timeout(300)  # two cold starts and 400 events, on a loaded machine too
async def test_two_instances_share_the_work(spawn, nc, counters, test_id, tmp_path):
    js = nc.jetstream()
    spawn(PROBE)
    spawn(PROBE)
    both = await started(nc, "probe", 2)
    # The durable consumer is shared by the session's tests: whatever an earlier one left
    # in it (a message a killed process held comes back after ack_wait) is handled
    # first and counted apart, so that the split below counts this test's events only.
    await eventually(lambda: settled(js), timeout=60)

    async def consumed() -> list[float]:
        return [await scrape(i.metadata["health"], "im_events_consumed_total") for i in both]

    before = await consumed()
    rids = [f"w{test_id}-{i}" for i in range(40)]
    for i in range(400):
        await publish(js, Pinged(resident_id=rids[i % 40], by=1))

    async def sum_of_counters() -> int:
        docs = await counters.find({"_id": {"$in": rids}}).to_list(None)
        return sum(d["total"] for d in docs)

    await eventually(lambda: equals(sum_of_counters(), 400), timeout=120)
    await eventually(lambda: settled(js), timeout=60)
    assert await sum_of_counters() == 400
    for rid in rids:
        assert (await counters.find_one({"_id": rid}))["total"] == 10

    async def counted_events() -> int:
        info = await js.stream_info(PROBE_STREAM,
                                    subjects_filter=subj.event("probe", "counted") + ".*")
        return sum(n for s, n in (info.state.subjects or {}).items()
                   if s.rsplit(".", 1)[1] in set(rids))

    # The relay publishes after the commit: one Counted per handled event, no more.
    await eventually(lambda: equals(counted_events(), 400), timeout=60)
    for i in both:
        await eventually(lambda i=i: equals(scrape(i.metadata["health"], "im_outbox_pending"), 0),
                         timeout=60)
    assert await counted_events() == 400
    done = [after - was for after, was in zip(await consumed(), before, strict=True)]
    assert sum(done) == 400, (done, before)
    assert all(n > 0 for n in done), (done, logs_of(tmp_path))


# consumer settings follow the service's settings --------------------------------------

async def test_durable_consumer_follows_the_settings(settings, nc):
    js = nc.jetstream()
    for ack_wait, batch in ((7.0, 1024), (settings.ack_wait, settings.batch_size)):
        rt = ServiceRuntime(spec, replace(settings, ack_wait=ack_wait, batch_size=batch))
        await rt.start()
        try:
            info = await js.consumer_info(SOURCE_STREAM, DURABLE)
            assert info.config.ack_wait == ack_wait
            # the runtime counts attempts itself (an outage is not an attempt): the
            # server's limit is only a backstop well above them, whose advisory
            # dead-letters what reaches it (im_runtime.undelivered)
            assert info.config.max_deliver == backstop(settings.max_deliver) > \
                settings.max_deliver + ISOLATE_FROM
            # two batches in hand (one handled, one fetched ahead) must fit, or each
            # fetch waits out its timeout (found: 1,024-event batches replayed at 199/s)
            assert (info.config.max_ack_pending or 0) >= 2 * batch
        finally:
            await rt.stop()
