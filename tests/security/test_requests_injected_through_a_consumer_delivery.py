"""Attack: a service has JetStream deliver messages onto request and announcement subjects
it may not publish on.

nats-server delivers a fetch to whatever reply subject the fetch names (and a push
consumer to its `deliver_subject`), checked against no permission of the one who asked.
Commands are signed by the gateway (test_command_injection_through_fetch_reply), but
queries carry their actor unsigned, the gateway's own `apply_retention` command and the
erasure announcements (`im.evt.privacy.erasure_requested.<id>`, heard on core
subscriptions by the gateway and every service) were believed as they came. So
education, with nothing but its own durable's rights:
- announces a forged erasure of any resident by fetching with that subject as reply
  (only the subject counts): the gateway answered 410 for the resident and pseudonymised
  its audit entries, and every service dropped events about it;
- asks housing a query (or the gateway to apply its retention as of 2100) with an actor
  of its choosing; the answer went to the delivery's acknowledgement subject, so it read
  nothing, but the request was served.
A message JetStream delivered always carries an acknowledgement (`$JS.ACK.…`) as its reply,
and nothing the platform sends on these subjects does: such a message is ignored
(im_runtime.actors.from_jetstream). Why signing queries is not needed for their answers:
an answer goes only to the reply subject of the request (allow_responses), and a delivered
message's reply subject is JetStream's, never the attacker's inbox."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import msgspec
import nats
import pytest
from nats.js.api import ConsumerConfig, DeliverPolicy

from contracts import Actor
from contracts import privacy as pv
from contracts import subjects as subj
from contracts.queries import RESIDENT_OVERVIEW
from im_cli import natsauth
from im_runtime import erasure_keys
from im_runtime.settings import inbox_prefix
from support.attack import Stack

PRIVACY = subj.event_stream("privacy")
HOUSING = subj.event_stream("housing")
MINE = "education__privacy"  # a durable of education's own (erasure requests)
CONFIRMED = subj.event("privacy", "erasure_confirmed")  # education may publish here
MALLORY = Actor(subject="mallory", role="city_admin")


def next_of(stream: str, durable: str) -> str:
    return f"$JS.API.CONSUMER.MSG.NEXT.{stream}.{durable}"


@pytest.mark.flow
async def test_a_forged_erasure_announcement_delivered_by_a_fetch_erases_nothing(
        stack: Stack) -> None:
    victim = f"r-{uuid.uuid4().hex[:10]}"
    async with stack.services("housing") as [housing], stack.gateway() as gw, \
            stack.as_user(natsauth.service_user("education")) as edu, \
            stack.as_user(natsauth.ADMIN) as admin:
        # An event about the victim pending on education's own durable of housing's
        # events (the admin stands in for housing): a delivered message keeps its own
        # subject, and the listeners take the resident from it.
        info = await admin.js.consumer_info(HOUSING, "education__housing")
        about = next(f for f in info.config.filter_subjects or [info.config.filter_subject]
                     if f.endswith(".*"))
        ack = await admin.js.publish(about.replace("*", victim), b"{}")
        try:
            before = await gw.post("/api/v1/commands/housing/get_resident",
                                   {"resident_id": victim})
            await edu.nc.publish(next_of(HOUSING, "education__housing"),
                                 b'{"batch": 1000, "no_wait": true}',
                                 reply=subj.event(pv.SERVICE, "erasure_requested", "x"))
            await edu.nc.flush()
            await asyncio.sleep(0.8)
            assert edu.violations() == []  # it used no right it does not have
            after = await gw.post("/api/v1/commands/housing/get_resident",
                                  {"resident_id": victim})
            assert before.status_code == after.status_code == 404, after.text
            assert erasure_keys.key(victim) not in housing.erased.keys
        finally:
            await admin.js.delete_msg(HOUSING, ack.seq)


@pytest.mark.flow
async def test_a_request_delivered_by_a_fetch_is_not_served(stack: Stack) -> None:
    """A query to housing (per service and to all), a read command, and the gateway's
    retention run as of 2100, each delivered from education's durable with a body it
    chose: none is served (the gateway's audit log stays), and education hears nothing
    (an answer could go only to the delivery's acknowledgement subject)."""
    victim = f"r-{uuid.uuid4().hex[:10]}"
    query = json.dumps({"resident_id": victim, "actor": msgspec.to_builtins(MALLORY)})
    retention = {**msgspec.to_builtins(pv.ApplyRetention(actor=MALLORY)),
                 "as_of": "2100-01-01T00:00:00+00:00"}
    targets = [(subj.query_for(RESIDENT_OVERVIEW, "housing"), query),
               (subj.query(RESIDENT_OVERVIEW), query),
               (subj.command("housing", "get_resident"), query),
               (subj.command("gateway", pv.APPLY_RETENTION), json.dumps(retention))]
    async with stack.as_user(natsauth.ADMIN) as admin:
        try:
            await admin.js.delete_consumer(PRIVACY, MINE)
        except nats.js.errors.NotFoundError:
            pass
        async with stack.services("housing"), stack.gateway() as gw, \
                stack.as_user(natsauth.service_user("education")) as edu:
            await gw.app.state.audit.record(Actor(subject="sw-1", role="social_worker"),
                                            [victim], action="read", sections=["housing"])
            # The bodies it chose, in a stream its durable reads (here the admin points
            # the durable at them: they stand for any it gets into what it reads).
            acks = [await edu.js.publish(CONFIRMED, body.encode()) for _, body in targets]
            await admin.js.add_consumer(PRIVACY, ConsumerConfig(
                name=MINE, durable_name=MINE, filter_subject=CONFIRMED,
                deliver_policy=DeliverPolicy.BY_START_SEQUENCE, opt_start_seq=acks[0].seq))
            served = await housing_requests(admin)
            heard = await edu.nc.subscribe(
                f"{inbox_prefix(natsauth.service_user('education'))}.>")
            for target, _ in targets:
                await edu.nc.publish(next_of(PRIVACY, MINE), b'{"batch": 1, "no_wait": true}',
                                     reply=target)
                await edu.nc.flush()
                await asyncio.sleep(0.2)
            await asyncio.sleep(1.0)
            info = await admin.js.consumer_info(PRIVACY, MINE)
            assert info.delivered.consumer_seq == len(targets)  # every one was delivered
            assert await housing_requests(admin) == served, "housing served a delivery"
            audit = await gw.get(f"/api/v1/audit?resident={victim}", role="auditor")
            assert audit.json()["total"] == 1, "the gateway applied a forged retention run"
            assert heard.pending_msgs == 0
            assert edu.violations() == []
        await admin.js.delete_consumer(PRIVACY, MINE)


async def housing_requests(admin: Any) -> int:
    """Requests housing's endpoints served (its `$SRV.STATS`)."""
    reply = await admin.nc.request("$SRV.STATS.housing", b"", timeout=5)
    return sum(e["num_requests"] for e in json.loads(reply.data)["endpoints"])
