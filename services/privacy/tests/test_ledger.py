"""The erasure ledger's commands and confirmations, against the in-memory store."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import msgspec
import pytest

from contracts import Actor
from contracts import privacy as pv
from im_runtime import Conflict, DomainError, Forbidden, NotFound, erasure_keys
from im_runtime.memory import MemoryStore
from privacy import approval, four_eyes, ledger

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")
AUDITOR = Actor(subject="audit-1", role="auditor")


SECOND = Actor(subject="admin-2", role="city_admin")


async def request(store: MemoryStore, rid: str, actor: Actor = ADMIN,
                  command_id: str = "c-1") -> pv.ErasureStatus:
    """Requested by one city admin and approved by another (four eyes, the default)."""
    asked = await store.run(ledger.request_erasure, pv.RequestErasure(
        resident_id=rid, category="subject_request", reason="Art. 17 GDPR", actor=actor,
        command_id=command_id))
    if asked.state != "awaiting_approval":
        return asked
    return await store.run(approval.approve_erasure, pv.ApproveErasure(
        resident_id=rid, actor=SECOND, command_id=f"{command_id}-approve"))


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
    assert keys.staff == []


async def test_staff_members_keys_are_listed_apart_for_the_gateways_accounts():
    store = MemoryStore("privacy")
    await request(store, "r-10")
    asked = await store.run(ledger.request_erasure, pv.RequestErasure(
        resident_id="sw-10", category="subject_request", person="staff", actor=ADMIN,
        command_id="c-staff"))
    await store.run(approval.approve_erasure, pv.ApproveErasure(
        resident_id="sw-10", actor=Actor(subject="admin-2", role="city_admin"),
        command_id="c-staff-ok"))
    assert asked.person == "staff"
    keys = await store.ask(ledger.list_erasures, pv.ListErasures())
    assert keys.keys == sorted([erasure_keys.key("r-10"), erasure_keys.key("sw-10")])
    assert keys.staff == [erasure_keys.key("sw-10")]


# four eyes (privacy/four_eyes.py, approval.py)
async def ask(store: MemoryStore, rid: str, actor: Actor = ADMIN, category: str = "retention",
              reason: str | None = "kept beyond its period", command_id: str = "c-ask"
              ) -> pv.ErasureStatus:
    return await store.run(ledger.request_erasure, pv.RequestErasure(
        resident_id=rid, category=category, reason=reason, actor=actor,  # type: ignore[arg-type]
        command_id=command_id))


async def test_a_request_waits_for_a_second_city_admin_and_only_then_goes_out():
    store = MemoryStore("privacy")
    asked = await ask(store, "r-4e")
    assert asked.state == "awaiting_approval" and asked.category == "retention"
    assert asked.reason is None  # a stored reply never carries the free text
    assert not store.outbox
    assert await store.ask(ledger.list_erasures, pv.ListErasures()) == pv.ErasureKeys(keys=[])
    pending = await store.ask(approval.list_pending, pv.ListPendingErasures(actor=AUDITOR))
    (one,) = pending.pending
    assert (one.resident_id, one.category, one.reason, one.requested_by) == (
        "r-4e", "retention", "kept beyond its period", "admin-1")
    shown = await store.ask(ledger.get_erasure, pv.GetErasure(resident_id="r-4e", actor=ADMIN))
    assert shown.reason == "kept beyond its period"

    done = await store.run(approval.approve_erasure, pv.ApproveErasure(
        resident_id="r-4e", actor=SECOND, command_id="c-ok"))
    assert (done.state, done.approved_by) == ("approved", "admin-2")
    (entry,) = store.outbox
    assert entry.subject == "im.evt.privacy.erasure_requested.r-4e"
    assert (await store.ask(approval.list_pending,
                            pv.ListPendingErasures(actor=ADMIN))).pending == []
    again = await store.run(approval.approve_erasure, pv.ApproveErasure(
        resident_id="r-4e", actor=SECOND, command_id="c-ok-2"))
    assert again.state == "approved" and len(store.outbox) == 1


async def test_the_requester_cannot_approve_their_own_request():
    store = MemoryStore("privacy")
    await ask(store, "r-self")
    with pytest.raises(Forbidden, match="different city administrator"):
        await store.run(approval.approve_erasure, pv.ApproveErasure(
            resident_id="r-self", actor=ADMIN, command_id="c-self"))
    assert not store.outbox
    shown = await store.ask(ledger.get_erasure, pv.GetErasure(resident_id="r-self", actor=ADMIN))
    assert shown.state == "awaiting_approval"


@pytest.mark.parametrize("role", ["social_worker", "operator", "provider", "auditor", "system"])
async def test_only_a_city_admin_approves_or_rejects(role):
    store = MemoryStore("privacy")
    await ask(store, "r-role")
    other = Actor(subject="someone", role=role)  # type: ignore[arg-type]
    with pytest.raises(Forbidden):
        await store.run(approval.approve_erasure, pv.ApproveErasure(
            resident_id="r-role", actor=other, command_id="c-a"))
    with pytest.raises(Forbidden):
        await store.run(approval.reject_erasure, pv.RejectErasure(
            resident_id="r-role", actor=other, command_id="c-r"))
    assert not store.outbox


async def test_a_rejected_request_leaves_the_ledger_and_may_be_asked_again():
    store = MemoryStore("privacy")
    asked = await ask(store, "r-no")
    gone = await store.run(approval.reject_erasure, pv.RejectErasure(
        resident_id="r-no", actor=ADMIN, command_id="c-no"))  # the requester withdraws
    assert gone.state == "rejected" and not store.outbox
    assert not store.collections[ledger.ERASURES]
    record = store.collections[approval.REJECTIONS][asked.erasure_id]
    assert record["rejected_by"] == "admin-1" and record["category"] == "retention"
    assert "r-no" not in json.dumps(record, default=str)
    assert "kept beyond" not in json.dumps(record, default=str)
    with pytest.raises(NotFound):
        await store.run(approval.approve_erasure, pv.ApproveErasure(
            resident_id="r-no", actor=SECOND, command_id="c-late"))
    again = await ask(store, "r-no", command_id="c-again")
    assert again.state == "awaiting_approval" and again.erasure_id != asked.erasure_id


async def test_an_approved_erasure_cannot_be_rejected():
    store = MemoryStore("privacy")
    await request(store, "r-under-way")
    with pytest.raises(Conflict, match="under way"):
        await store.run(approval.reject_erasure, pv.RejectErasure(
            resident_id="r-under-way", actor=SECOND, command_id="c-stop"))


async def test_with_four_eyes_off_a_request_goes_out_at_once(monkeypatch):
    monkeypatch.setenv(four_eyes.ENV, "0")
    store = MemoryStore("privacy")
    asked = await ask(store, "r-alone", category="subject_request", reason=None)
    assert asked.state == "approved" and len(store.outbox) == 1


@pytest.mark.parametrize("raw", ["maybe", "2", "yes please"])
async def test_a_bad_four_eyes_setting_refuses_the_request_naming_the_variable(
        monkeypatch, raw):
    monkeypatch.setenv(four_eyes.ENV, raw)
    store = MemoryStore("privacy")
    with pytest.raises(DomainError, match="IM_ERASURE_FOUR_EYES"):
        await ask(store, "r-bad")
    assert not store.collections.get(ledger.ERASURES) and not store.outbox


@pytest.mark.parametrize("body", [
    {"resident_id": "r-1", "category": "because"},
    {"resident_id": "r-1", "category": "other", "reason": "x"},
    {"resident_id": "r-1", "category": "other", "reason": "x" * 501},
    {"resident_id": "r-1", "category": 3},
])
def test_bad_categories_and_reasons_are_refused_by_the_contract(body):
    raw = json.dumps({**body, "command_id": "c-1",
                      "actor": {"subject": "a", "role": "city_admin"}})
    with pytest.raises(msgspec.ValidationError):
        msgspec.json.decode(raw, type=pv.RequestErasure)
