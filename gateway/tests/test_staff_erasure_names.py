"""An erased staff member's user name, as the gateway keeps it (against the real
MongoDB-wire server): a gateway that was away when the erasure went out removes her
account once it learns the key; her name is refused for new accounts from then on; and
an account is never removed for an erasure it did not belong to."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import pytest

from gateway import accounts as accounts_module
from gateway.accounts import ERASED_NAMES, USERS, Accounts, NewUser
from gateway.audit import AuditLog
from gateway.errors import ApiError
from gateway.staff_erasure import StaffErasure
from im_cli.testing import Servers
from im_runtime import erasure_keys

pytestmark = pytest.mark.integration


@pytest.fixture
async def gateway_db(servers: Servers) -> AsyncIterator[tuple[Any, StaffErasure, Accounts]]:
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    client, db = accounts_module.connect(servers.mongo_url, prefix)
    audit = AuditLog(servers.mongo_url, f"{prefix}gateway")
    await audit.open()
    try:
        yield (db, StaffErasure(db, audit),
               Accounts(db, attempts=5, lockout=timedelta(minutes=15)))
    finally:
        await audit.close()
        await client.close()


def user(name: str) -> NewUser:
    return NewUser(username=name, role="social_worker", name=f"Person {name}")


async def names(db: Any) -> set[str]:
    return {d["_id"] for d in await db[USERS].find({}, {"_id": 1}).to_list(None)}


async def test_a_gateway_that_was_away_catches_up_once(gateway_db: Any) -> None:
    db, staff, users = gateway_db
    tag = uuid.uuid4().hex[:8]
    erased, other = f"sw-{tag}", f"sw-{tag}-2"
    for name in (erased, other):
        await users.add(user(name), "x", must_change=True)
    keys = {erasure_keys.key(erased)}

    assert await staff.forget_erased(keys) == 1
    assert await names(db) == {other}  # a longer name sharing the prefix stays
    assert await db[ERASED_NAMES].count_documents({}) == 1
    assert erased not in str(await db[ERASED_NAMES].find_one({}))  # the key, not the name

    # Her name is refused from now on ...
    with pytest.raises(ApiError) as refused:
        await users.add(user(erased), "x", must_change=True)
    assert refused.value.code == "conflict" and refused.value.details["field"] == "username"
    assert "erased" in refused.value.message
    # ... and an account under it that got in anyway (written straight into the
    # database) is not removed again by the next reload of the keys: the catch-up
    # happens once per erasure, so it never takes an account younger than the erasure.
    await db[USERS].insert_one({"_id": erased, "role": "auditor", "name": "Other",
                                "disabled": False, "password_hash": "x"})
    assert await staff.forget_erased(keys) == 0
    assert erased in await names(db)


async def test_an_erasure_seen_live_records_only_staff_names(gateway_db: Any) -> None:
    db, staff, users = gateway_db
    tag = uuid.uuid4().hex[:8]
    worker, resident = f"sw-{tag}", f"r-{tag}"
    await users.add(user(worker), "x", must_change=True)
    await staff.forget(worker, staff=True)
    await staff.forget(resident)  # a resident's erasure: no name to refuse
    assert await names(db) == set()
    with pytest.raises(ApiError):
        await users.add(user(worker), "x", must_change=True)
    assert (await users.add(user(resident), "x", must_change=True)).username == resident
    # A retention removes an account without recording its name (it may be given again).
    retired = f"old-{tag}"
    await users.add(user(retired), "x", must_change=True)
    await staff.forget(retired)
    assert (await users.add(user(retired), "x", must_change=True)).username == retired
