"""Attack: tell who was erased by hashing a list of ids. An erasure key was the plain
SHA-256 of `im-erasure:<id>`: anyone who sees keys (a city admin or auditor reads them in
an erasure's status; the ledger, each service's record and the audit log store them)
and holds ids (every social worker does) hashes the ids and matches; a short id space
can simply be enumerated. Now keys are an HMAC with the platform's erasure secret, which
only the processes hold, and keys stored before it are upgraded in place."""

from __future__ import annotations

import hashlib
import hmac
from datetime import UTC, datetime
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from contracts.privacy import KEYED, keyed, legacy_erasure_key
from im_runtime import erasure_keys
from support.attack import Stack, eventually, rid
from support.erasure import request_and_approve


def reversed_by(candidates: list[str], stored: set[str], secret: bytes | None) -> set[str]:
    """The ids an attacker recognises among stored keys: hashed plainly (the old key), or
    with a secret it guesses."""
    found = {c for c in candidates if legacy_erasure_key(c) in stored}
    if secret is not None:
        found |= {c for c in candidates if keyed(legacy_erasure_key(c), secret) in stored}
    return found


async def stored_keys(db: Any) -> tuple[set[str], set[str]]:
    """The erasure keys at rest: the ledger's, and a service's record of its erasures."""
    ledger = {d["key"] async for d in db[f"{db.prefix}privacy"]["erasures"].find()}
    records = {d["_id"] async for d in db[f"{db.prefix}volunteers"]["im_erased"].find()}
    return ledger, records


class Databases:
    def __init__(self, stack: Stack) -> None:
        self.client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(stack.mongo_url)
        self.prefix = stack.prefix

    def __getitem__(self, name: str) -> Any:
        return self.client[name]


@pytest.mark.flow
async def test_erased_residents_cannot_be_found_by_hashing_a_list_of_ids(stack: Stack) -> None:
    candidates = [rid("r") for _ in range(2000)]  # the ids a user holds, or can enumerate
    erased = candidates[:3]
    db = Databases(stack)
    async with stack.services("privacy", "volunteers"), stack.gateway() as gw:
        shown = set()
        for r in erased:
            status = await request_and_approve(gw, r)
            shown.add(status["key"])  # what a city admin or auditor sees
            assert (await gw.get(f"/api/v1/residents/{r}")).status_code == 410

        async def recorded() -> bool:  # (the bus may bring volunteers older erasures too)
            ledger, records = await stored_keys(db)
            return ledger == shown and shown <= records

        assert await eventually(recorded), await stored_keys(db)
        ledger, records = await stored_keys(db)
        everything = ledger | records | shown
        # The attack as it worked before: hash every id, match. Nothing now; nor with a
        # guessed secret.
        assert reversed_by(candidates, everything, None) == set()
        assert reversed_by(candidates, everything, b"") == set()
        assert reversed_by(candidates, everything, b"im-erasure") == set()
        assert all(k.startswith(KEYED) for k in everything), everything
        # The keys are still the erased residents' (who holds the secret can check).
        assert reversed_by(candidates, everything, stack.erasure_secret) == set(erased)
        # And the HMAC is what the platform uses, not something the attacker could redo.
        r = erased[0]
        mac = hmac.new(stack.erasure_secret, legacy_erasure_key(r).encode(), hashlib.sha256)
        assert KEYED + mac.hexdigest() in everything
    await db.client.close()


@pytest.mark.flow
async def test_keys_stored_before_the_secret_are_upgraded_and_still_recognised(
        stack: Stack) -> None:
    """A platform that recorded erasures under the old keys gets a secret: the stored
    keys are rewritten (nothing reversible stays at rest) and the residents stay erased."""
    r = rid("r")
    old = legacy_erasure_key(r)
    now = datetime.now(UTC)
    db = Databases(stack)
    await db[f"{stack.prefix}privacy"]["erasures"].insert_one({
        "_id": f"erasure-{r}", "_v": 1, "key": old, "reason": "asked by the person",
        "requested_by": "admin", "requested_at": now, "pending_resident": None,
        "expected": [], "confirmations": {}, "purges": [], "complete": True,
        "completed_at": now})
    await db[f"{stack.prefix}volunteers"]["im_erased"].insert_one(
        {"_id": old, "_v": 1, "erasure_id": f"erasure-{r}", "at": now})
    audit = db[f"{stack.prefix}gateway"]["audit"]
    await audit.insert_one({"_id": f"a-{r}", "resident_id": f"erased:{old}", "at": now,
                            "subject": "sw-1", "role": "social_worker", "action": "read"})
    async with stack.services("privacy", "volunteers"), stack.gateway() as gw:
        new = erasure_keys.key(r)
        assert new.startswith(KEYED) and new != old

        async def upgraded() -> bool:
            ledger, records = await stored_keys(db)
            return ledger == {new} and new in records and old not in records

        assert await eventually(upgraded), await stored_keys(db)
        assert await audit.count_documents({"resident_id": f"erased:{old}"}) == 0
        assert await audit.count_documents({"resident_id": f"erased:{new}"}) == 1
        # Still erased everywhere it was: the status is found, reads answer 410, and the
        # service refuses to take the resident back.
        status = await gw.get(f"/api/v1/residents/{r}/erasure", role="auditor")
        assert status.status_code == 200 and status.json()["key"] == new, status.text

        async def gone() -> bool:
            return (await gw.get(f"/api/v1/residents/{r}")).status_code == 410

        assert await eventually(gone)
    await db.client.close()
