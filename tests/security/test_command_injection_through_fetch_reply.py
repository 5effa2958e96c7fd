"""Attack: a service turns its durable consumer into a command gun.

Every service may publish erasure confirmations (`im.evt.privacy.erasure_confirmed`) and
fetch from its consumer of erasure requests (`<service>__privacy` on IM_EVT_PRIVACY).
nats-server delivers a fetch to whatever reply subject the fetch names, without checking
it against the requester's permissions. So education stores a `RequestErasure` body that
names a `city_admin` as a "confirmation", re-points its consumer at the confirmations,
and fetches with the reply subject `im.cmd.privacy.request_erasure`: the privacy service
receives the body as a command. Two layers stop it: the consumer can be created only with
its own filter; and privacy believes only actors the gateway signed."""

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
from im_cli import natsauth
from im_runtime import actors
from support.attack import Stack

STREAM = subj.event_stream("privacy")
DURABLE = "education__privacy"
CONFIRMED = subj.event("privacy", "erasure_confirmed")
REQUEST = subj.command("privacy", "request_erasure")
NEXT = f"$JS.API.CONSUMER.MSG.NEXT.{STREAM}.{DURABLE}"


def forged_request(victim: str) -> bytes:
    return msgspec.json.encode(pv.RequestErasure(
        resident_id=victim, reason="forged by a service", command_id=uuid.uuid4().hex,
        actor=Actor(subject="mallory", role="city_admin")))


async def erasure_of(stack: Stack, victim: str) -> dict[str, Any]:
    """The privacy ledger's answer about `victim`, asked as the gateway would (signed)."""
    body = msgspec.json.encode(pv.GetErasure(
        resident_id=victim, actor=Actor(subject="auditor-1", role="city_admin")))
    subject = subj.command("privacy", "get_erasure")
    async with stack.as_user(natsauth.GATEWAY) as gw:
        msg = await gw.nc.request(subject, body, timeout=5, headers=actors.signed_headers(
            stack.secret, "privacy", subject, body))
    return json.loads(msg.data)  # type: ignore[no-any-return]


async def drop_consumer(stack: Stack) -> None:
    async with stack.as_user(natsauth.ADMIN) as admin:
        try:
            await admin.js.delete_consumer(STREAM, DURABLE)
        except nats.js.errors.NotFoundError:
            pass


@pytest.mark.flow
async def test_erasure_request_injected_through_a_fetch_reply_is_refused(stack: Stack) -> None:
    """The exact attack, as education's NATS user, against the real privacy service."""
    victim = f"r-{uuid.uuid4().hex[:10]}"
    await drop_consumer(stack)
    async with stack.services("privacy"), \
            stack.as_user(natsauth.service_user("education")) as edu:
        await edu.js.publish(CONFIRMED, forged_request(victim))  # a right it has
        # Re-point its consumer at the confirmations: in the API subject the filter is
        # not its own, so the server refuses (no answer: the request times out).
        with pytest.raises(nats.errors.TimeoutError):
            await edu.js.add_consumer(STREAM, ConsumerConfig(
                name=DURABLE, durable_name=DURABLE, filter_subject=CONFIRMED,
                deliver_policy=DeliverPolicy.LAST), timeout=1)
        # Nor through the API subjects that carry no filter.
        for api in (f"$JS.API.CONSUMER.CREATE.{STREAM}.{DURABLE}",
                    f"$JS.API.CONSUMER.DURABLE.CREATE.{STREAM}.{DURABLE}"):
            config = {"stream_name": STREAM, "config": {
                "durable_name": DURABLE, "filter_subjects": [CONFIRMED, CONFIRMED + ".x"],
                "deliver_policy": "last", "ack_policy": "explicit"}}
            with pytest.raises(nats.errors.TimeoutError):
                await edu.nc.request(api, json.dumps(config).encode(), timeout=1)
        await edu.nc.publish(NEXT, b'{"batch": 50, "no_wait": true}', reply=REQUEST)
        await edu.nc.flush()
        await asyncio.sleep(1.0)
        assert len(edu.violations()) >= 3, edu.errors
        answer = await erasure_of(stack, victim)
        assert answer.get("code") == "not_found", answer


@pytest.mark.flow
async def test_unsigned_actor_delivered_into_a_command_queue_is_refused(stack: Stack) -> None:
    """The second layer alone: the consumer already points at the forged body (here the
    admin re-pointed it), the fetch delivers it to privacy's command queue, and privacy
    refuses the actor no gateway signed. A signed request for another resident, sent the
    same way the gateway sends it, is taken: the check refuses only what it should."""
    victim, control = (f"r-{uuid.uuid4().hex[:10]}" for _ in range(2))
    await drop_consumer(stack)
    async with stack.services("privacy"), \
            stack.as_user(natsauth.service_user("education")) as edu, \
            stack.as_user(natsauth.ADMIN) as admin:
        await edu.js.publish(CONFIRMED, forged_request(victim))
        await admin.js.add_consumer(STREAM, ConsumerConfig(
            name=DURABLE, durable_name=DURABLE, filter_subject=CONFIRMED,
            deliver_policy=DeliverPolicy.LAST))
        await edu.nc.publish(NEXT, b'{"batch": 1, "no_wait": true}', reply=REQUEST)
        await edu.nc.flush()
        # Straight onto the command subject, unsigned (as admin, who may publish there).
        reply = json.loads((await admin.nc.request(
            REQUEST, forged_request(victim), timeout=5)).data)
        assert reply["code"] == "unauthorised" and "not signed" in reply["message"], reply
        signed = forged_request(control)
        ok = json.loads((await admin.nc.request(REQUEST, signed, timeout=5, headers=(
            actors.signed_headers(stack.secret, "privacy", REQUEST, signed)))).data)
        assert ok["status"] == "ok", ok
        # Signed for another service's key, or for another command: refused.
        for service, subject in (("housing", REQUEST), ("privacy", subj.command(
                "privacy", "get_erasure"))):
            bad = json.loads((await admin.nc.request(REQUEST, signed, timeout=5, headers=(
                actors.signed_headers(stack.secret, service, subject, signed)))).data)
            assert bad["code"] == "unauthorised", bad
        await asyncio.sleep(0.5)
        assert (await erasure_of(stack, victim)).get("code") == "not_found"
        assert (await erasure_of(stack, control))["status"] == "ok"
    await drop_consumer(stack)


@pytest.mark.flow
async def test_precreating_another_services_stream_to_capture_its_commands_is_refused(
        stack: Stack) -> None:
    """Before housing ever started, education creates IM_EVT_HOUSING itself, with
    housing's commands among its subjects (then reads them through its own consumer of
    housing's stream): a service may create only its own stream."""
    housing = subj.event_stream("housing")
    async with stack.as_user(natsauth.ADMIN) as admin:
        await admin.js.delete_stream(housing)  # as on a bus housing has not joined yet
        try:
            async with stack.as_user(natsauth.service_user("education")) as edu:
                config = {"name": housing, "subjects": ["im.evt.housing.>", "im.cmd.housing.>"],
                          "storage": "memory"}
                with pytest.raises(nats.errors.TimeoutError):
                    await edu.nc.request(f"$JS.API.STREAM.CREATE.{housing}",
                                         json.dumps(config).encode(), timeout=1)
                assert edu.violations(), edu.errors
            with pytest.raises(nats.js.errors.NotFoundError):
                await admin.js.stream_info(housing)
        finally:
            await natsauth.provision(admin.nc, [])
