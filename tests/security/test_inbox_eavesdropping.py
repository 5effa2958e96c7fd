"""Attack: a service's password listens on the inboxes, where every reply goes: housing's
`get_resident` answers (names) to the gateway, scatter-gather sections, pub-acks and the
messages JetStream delivers to other services' fetches. Each user now may subscribe only
to its own inbox prefix (`_INBOX_<user>`)."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from im_cli import natsauth
from support.attack import Stack, rid

SPIED = ("_INBOX.>", "_INBOX_gateway.>", "_INBOX_service-housing.>",
         "_INBOX_operator-op-a.>", ">")


async def register(gw: Any, resident: str, family_name: str) -> None:
    r = await gw.post("/api/v1/residents", {
        "resident_id": resident, "given_name": "Amina", "family_name": family_name,
        "birth_year": 1990, "languages": ["ar"], "residence_status": "recognised_refugee",
        "arrival_date": "2025-02-01"})
    assert r.status_code == 200, r.text


@pytest.mark.flow
async def test_a_service_cannot_read_housing_replies_to_the_gateway(stack: Stack) -> None:
    resident, name = rid("r"), rid("Haddad")
    async with stack.services("housing"), stack.gateway() as gw, \
            stack.as_user(natsauth.service_user("volunteers")) as spy:
        heard: list[bytes] = []

        async def listen(msg: Any) -> None:
            heard.append(msg.data)

        for subject in SPIED:
            await spy.nc.subscribe(subject, cb=listen)
        await spy.nc.flush()
        await register(gw, resident, name)
        r = await gw.post("/api/v1/commands/housing/get_resident", {"resident_id": resident})
        assert r.status_code == 200 and name in r.text, r.text
        r = await gw.get(f"/api/v1/residents/{resident}")
        assert r.status_code == 200 and name in r.text, r.text
        await asyncio.sleep(0.3)
        assert not [h for h in heard if name.encode() in h]
        refused = spy.violations()
        assert all(any(f'"{s.lower()}"' in e for e in refused) for s in SPIED), spy.errors


@pytest.mark.flow
async def test_every_user_may_subscribe_only_to_its_own_inbox(stack: Stack) -> None:
    """The gateway, each service and each operator: its own prefix works for requests (the
    JetStream API answers there), a neighbour's is refused."""
    users = [natsauth.GATEWAY, natsauth.service_user("housing"),
             natsauth.service_user("privacy"), natsauth.operator_user("op-a")]
    for user in users:
        async with stack.as_user(user) as conn:
            if user.startswith("operator-"):  # the pub-ack comes back through the import
                ack = await conn.js.publish("im.ops.op-a.incident_recorded", b"{}")
                assert ack.stream == "IM_OPS"
            elif user != natsauth.GATEWAY:
                await conn.js.stream_info(
                    "IM_EVT_" + user.removeprefix("service-").upper())
            other = "_INBOX_service-volunteers.>" if user != "service-volunteers" else "x"
            await conn.nc.subscribe(other)
            await conn.nc.flush()
            await asyncio.sleep(0.1)
            assert any(other.lower() in e for e in conn.violations()), (user, conn.errors)
