"""200 concurrent enrolments into a 20-seat course through the bus: exactly 20 confirmed
and 180 waitlisted in order of arrival, never 21.

Why it holds: FastStream hands a core subscriber's messages to its handler one at a time
(nats-py awaits the callback per subscription), so one instance takes enrolments in the
order they reach it; and all of a course's seats live on its one document, whose version
the commit checks, so two instances racing for the last seat cannot both get it. With two
instances the loser of a race is retried at once, at most 8 times (im_runtime.pipeline.retry):
now and then a command exhausts them and is answered `conflict`; the client sends it again."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import date
from typing import Any

import msgspec
import nats
import pytest

from contracts import Actor, ErrorReply
from contracts import education_commands as c
from contracts import subjects as subj
from education.plugin import spec
from im_cli.testing import eventually
from im_runtime.service import ServiceRuntime

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("education")]

ADMIN = Actor(subject="admin-1", role="city_admin")
N, SEATS = 200, 20


async def setup(call: Any, cid: str) -> None:
    reply = await call("create_course", c.CreateCourse(
        actor=ADMIN, course_id=cid, kind="integration_course", level="A1", title="A1 Abend",
        provider="adult_education_centre", site_id="ahlem", starts=date(2026, 4, 1),
        ends=date(2026, 9, 30), capacity=SEATS))
    assert not isinstance(reply, ErrorReply), reply


def enrol_body(cid: str, rid: str) -> bytes:
    return msgspec.json.encode(c.Enrol(actor=ADMIN, course_id=cid, resident_id=rid))


async def request(nc: Any, body: bytes, resend: list[int] | None = None) -> c.EnrolmentView:
    """Send an enrolment; with `resend`, a `conflict` answer (the runtime gave up after its
    retries) is sent again, as a client is told to, and counted."""
    while True:
        msg = await nc.request(subj.command("education", "enrol"), body, timeout=60)
        reply = msgspec.json.decode(msg.data, type=c.EnrolmentView | ErrorReply)
        if resend is not None and isinstance(reply, ErrorReply) and reply.code == "conflict":
            resend.append(1)
            continue
        assert isinstance(reply, c.EnrolmentView), reply
        return reply


async def test_200_concurrent_enrolments_in_order_of_arrival(call, nc, events, test_id):
    cid = f"c-{test_id}"
    await setup(call, cid)
    rids = [f"r{i:03d}-{test_id}" for i in range(N)]
    bodies = [enrol_body(cid, rid) for rid in rids]
    # One connection: nats-py writes the requests in the order the tasks start, so the
    # order of arrival at the server is the order of `rids`.
    replies = await asyncio.gather(*(request(nc, b) for b in bodies))
    assert Counter(r.state for r in replies) == {"confirmed": SEATS, "waitlisted": N - SEATS}
    assert [r.resident_id for r in replies if r.state == "confirmed"] == rids[:SEATS]
    assert [r.position for r in replies[SEATS:]] == list(range(1, N - SEATS + 1))
    view = await call("get_course", c.GetCourse(actor=ADMIN, course_id=cid))
    assert (view.confirmed, view.waitlisted) == (SEATS, N - SEATS)
    await eventually(lambda: len(events.of("enrolment_waitlisted", cid)) == N - SEATS)
    assert len(events.of("enrolment_confirmed", cid)) == SEATS
    # a withdrawal promotes exactly the first in line
    await call("withdraw", c.Withdraw(actor=ADMIN, enrolment_id=replies[0].enrolment_id,
                                      reason="moved away"))
    await eventually(lambda: events.of("enrolment_promoted", cid))
    assert [e["data"]["resident_id"] for e in events.of("enrolment_promoted", cid)] \
        == [rids[SEATS]]


async def test_two_instances_racing_never_give_a_21st_seat(call, education, servers, test_id):
    cid = f"c-{test_id}"
    await setup(call, cid)
    second = ServiceRuntime(spec, education.settings)
    await second.start()
    conns = [await nats.connect(servers.nats_url) for _ in range(4)]
    resent: list[int] = []
    try:
        replies = await asyncio.gather(*(
            request(conns[i % 4], enrol_body(cid, f"r{i:03d}-{test_id}"), resent)
            for i in range(N)))
    finally:
        for conn in conns:
            await conn.drain()
        await second.stop()
    assert Counter(r.state for r in replies) == {"confirmed": SEATS, "waitlisted": N - SEATS}
    assert sorted(r.position for r in replies if r.position) == list(range(1, N - SEATS + 1))
    view = await call("get_course", c.GetCourse(actor=ADMIN, course_id=cid))
    assert (view.confirmed, view.waitlisted) == (SEATS, N - SEATS)
    print(f"two instances: {len(resent)} enrolments answered `conflict` and were resent")
