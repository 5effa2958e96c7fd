"""The erasure ledger's commands and confirmations, against the in-memory store."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from contracts import Actor
from contracts import privacy as pv
from im_runtime import Forbidden, NotFound, erasure_keys
from im_runtime.memory import MemoryStore
from privacy import ledger

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")
AUDITOR = Actor(subject="audit-1", role="auditor")


async def request(store: MemoryStore, rid: str, actor: Actor = ADMIN,
                  command_id: str = "c-1") -> pv.ErasureStatus:
    return await store.run(ledger.request_erasure, pv.RequestErasure(
        resident_id=rid, reason="Art. 17 GDPR", actor=actor, command_id=command_id))


async def test_a_request_is_recorded_by_key_and_announced_with_the_id_only_in_the_event():
    store = MemoryStore("privacy")
    status = await request(store, "r-42")
    assert status.key == erasure_keys.key("r-42") and not status.complete
    (entry,) = store.outbox
    assert entry.subject == "im.evt.privacy.erasure_requested.r-42"
    doc = store.collections[ledger.ERASURES][status.erasure_id]
    assert doc["pending_resident"] == "r-42"  # only while the request is open
    assert "r-42" not in json.dumps({k: v for k, v in doc.items() if k != "pending_resident"},
                                    default=str)


async def test_asking_again_returns_the_same_erasure_and_sends_nothing_more():
    store = MemoryStore("privacy")
    first = await request(store, "r-1", command_id="c-1")
    again = await request(store, "r-1", command_id="c-2")
    assert again.erasure_id == first.erasure_id
    assert len(store.outbox) == 1


@pytest.mark.parametrize("role", ["social_worker", "operator", "provider", "auditor"])
async def test_only_a_city_admin_may_request(role):
    with pytest.raises(Forbidden):
        await request(MemoryStore("privacy"), "r-1", Actor(subject="x", role=role))


async def test_status_shows_confirmations_and_what_is_pending():
    store = MemoryStore("privacy")
    status = await request(store, "r-7")
    doc = store.collections[ledger.ERASURES][status.erasure_id]
    doc["expected"] = ["education", "housing"]
    at = datetime(2026, 11, 28, tzinfo=UTC)
    await store.feed(ledger.on_confirmed, pv.ErasureConfirmed(
        erasure_id=status.erasure_id, service="housing", removed={"cases": 1},
        anonymised={"residents": 1}, confirmed_at=at), "housing")
    shown = await store.ask(ledger.get_erasure, pv.GetErasure(resident_id="r-7", actor=AUDITOR))
    assert shown.pending == ["education"]
    assert [c.service for c in shown.confirmations] == ["housing"]
    assert shown.confirmations[0].anonymised == {"residents": 1}


async def test_unknown_erasures_and_other_roles_are_refused():
    store = MemoryStore("privacy")
    with pytest.raises(NotFound):
        await store.ask(ledger.get_erasure, pv.GetErasure(resident_id="r-none", actor=ADMIN))
    await request(store, "r-2")
    with pytest.raises(Forbidden):
        await store.ask(ledger.get_erasure, pv.GetErasure(
            resident_id="r-2", actor=Actor(subject="sw", role="social_worker")))


async def test_a_confirmation_of_an_unknown_erasure_changes_nothing():
    store = MemoryStore("privacy")
    await store.feed(ledger.on_confirmed, pv.ErasureConfirmed(
        erasure_id="erasure-elsewhere", service="housing",
        confirmed_at=datetime(2026, 11, 28, tzinfo=UTC)), "housing")
    assert not store.collections.get(ledger.ERASURES)


async def test_the_keys_list_names_no_resident():
    store = MemoryStore("privacy")
    await request(store, "r-9")
    keys = await store.ask(ledger.list_erasures, pv.ListErasures())
    assert keys.keys == [erasure_keys.key("r-9")]
