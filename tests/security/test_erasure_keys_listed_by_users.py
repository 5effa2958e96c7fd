"""Attack: list every erased resident's key and reverse them. A key is a hash of a short
id (`r-` and ten hex digits), so trying every id recovers who was erased; any caller
could list them. Now only the platform itself (the gateway, as `system`, signed) may."""

from __future__ import annotations

import json

import msgspec
import pytest

from contracts import SYSTEM
from contracts import privacy as pv
from contracts import subjects as subj
from im_cli import natsauth
from im_runtime import actors
from support.attack import Stack


@pytest.mark.flow
async def test_listing_erasure_keys_is_only_for_the_platform(stack: Stack) -> None:
    async with stack.services("privacy"), stack.gateway() as gw:
        for role in ("city_admin", "auditor", "social_worker"):
            r = await gw.post("/api/v1/commands/privacy/list_erasures", {}, role=role)
            assert r.status_code == 403, (role, r.text)
        subject = subj.command("privacy", "list_erasures")
        body = msgspec.json.encode(pv.ListErasures(actor=SYSTEM))
        async with stack.as_user(natsauth.ADMIN) as admin:  # may publish any command
            reply = json.loads((await admin.nc.request(subject, body, timeout=5)).data)
            assert reply["code"] == "unauthorised", reply  # unsigned: not the gateway
        async with stack.as_user(natsauth.GATEWAY) as gateway:
            reply = json.loads((await gateway.nc.request(subject, body, timeout=5, headers=(
                actors.signed_headers(stack.secret, "privacy", subject, body)))).data)
            assert reply["status"] == "ok" and isinstance(reply["keys"], list), reply
