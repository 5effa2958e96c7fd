"""Attack: fetch someone else's reply by reusing their `command_id`. Command records were
kept under the id alone, so a second user who sent a command with the first user's id
got the first user's stored reply (the resident's name, household, phone). Records are
now kept per command, actor and id with a digest of the request: another user's id is
another command; the same user reusing an id for another request gets 409; repeating the
same request is answered as before. They expire after IM_COMMAND_RECORD_DAYS."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from im_runtime import processed
from support.attack import Stack, rid


def resident(family_name: str) -> dict[str, Any]:
    return {"resident_id": rid("r"), "given_name": "Amina", "family_name": family_name,
            "birth_year": 1990, "languages": ["ar"], "residence_status": "recognised_refugee",
            "arrival_date": "2025-02-01"}


@pytest.mark.flow
async def test_reusing_another_users_command_id_does_not_return_their_reply(
        stack: Stack) -> None:
    command_id = f"c-{uuid.uuid4().hex}"
    victim_name, mallory_name = rid("Haddad"), rid("Mallory")
    async with stack.services("housing") as (housing,), stack.gateway() as gw:
        first = {**resident(victim_name), "command_id": command_id}
        r = await gw.post("/api/v1/residents", first, subject="sw-anna")
        assert r.status_code == 200 and victim_name in r.text, r.text
        # The same user repeating the same request: the same answer (idempotent).
        again = await gw.post("/api/v1/residents", first, subject="sw-anna")
        assert again.status_code == 200 and again.json() == r.json()
        # Another user with that id: her own command, not Anna's reply.
        r = await gw.post("/api/v1/residents", {**resident(mallory_name),
                                                "command_id": command_id}, subject="sw-mallory")
        assert r.status_code == 200, r.text
        assert victim_name not in r.text and mallory_name in r.text
        # Anna sending another request under her id: refused, nothing done.
        r = await gw.post("/api/v1/residents", {**resident(rid("Other")),
                                                "command_id": command_id}, subject="sw-anna")
        assert r.status_code == 409 and "command_id" in r.json()["message"], r.text
        # Records expire; events' processed ids stay.
        db = housing.store.db["im_processed"]
        assert await db.count_documents({"_id": {"$regex": f":{command_id}$"}}) == 2
        await db.insert_one({"_id": "an-event-id", "reply": None, "at": 0})
        later = time.time_ns() + 8 * 86400 * 10**9
        assert await processed.expire(housing.store, 7, now_ns=later) >= 2
        assert await db.count_documents({"_id": {"$regex": f":{command_id}$"}}) == 0
        assert await db.count_documents({"_id": "an-event-id"}) == 1
