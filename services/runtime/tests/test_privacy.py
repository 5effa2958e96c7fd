"""What the runtime does for data protection in every service: the erasure consumer with
the default hook, the drop of late events about an erased resident, the report of where
data is, and retention (unit parts against the in-memory store, the rest with the real
servers and the probe service)."""

from __future__ import annotations

import uuid
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from contracts import Actor, CloudEvent, wrap
from contracts import privacy as pv
from contracts import subjects as subj
from contracts.housing import StaffAssigned
from im_cli.testing import eventually, stream_events
from im_runtime import Forbidden, erasure_keys
from im_runtime.privacy import ErasedKeys, default_erase, effective, report
from im_runtime.retention import apply_handler, apply_retention, period
from im_runtime.retention import handler as retention_handler
from im_runtime.service import ServiceRuntime
from im_runtime.spec import Retention
from im_runtime.storage.memory import MemoryStore
from support.probe import Pinged, spec

ADMIN = Actor(subject="admin", role="city_admin")


# unit ---------------------------------------------------------------------------------

@pytest.mark.unit
async def test_the_default_erase_removes_what_is_keyed_by_or_names_the_resident():
    store = MemoryStore()
    store.collections = {"counters": {"r-1": {"_id": "r-1", "total": 3},
                                      "r-2": {"_id": "r-2", "total": 1}},
                         "notes": {"n-1": {"_id": "n-1", "resident_id": "r-1"},
                                   "n-2": {"_id": "n-2", "resident_id": "r-2"}}}
    uow = store.unit_of_work("probe")
    done = await default_erase(spec)("r-1", uow)
    await uow.commit()
    assert done.removed == {"counters": 1, "notes": 1}
    assert set(store.collections["counters"]) == {"r-2"}
    assert set(store.collections["notes"]) == {"n-2"}


@pytest.mark.unit
async def test_events_about_erased_residents_are_split_off():
    store = MemoryStore()
    store.collections["im_erased"] = {erasure_keys.key("r-gone"): {"_id": "x"}}
    erased = ErasedKeys()
    erased.keys |= await store.erased_keys()
    events = [(i, wrap(Pinged(resident_id=r), source="tester"))
              for i, r in enumerate(["r-gone", "r-here", "r-gone"])]
    keep, drop = erased.split(events)
    assert [m for m, _ in keep] == [1] and drop == [0, 2]
    # the erasure request itself always gets through
    req = wrap(pv.ErasureRequested(erasure_id="e", resident_id="r-gone",
                                   requested_at=datetime.now(UTC)), source="privacy")
    assert erased.split([(9, req)]) == ([(9, req)], [])
    # a request seen on the bus counts at once, before this service handled it
    erased.add("r-next")
    keep, drop = erased.split([(5, wrap(Pinged(resident_id="r-next"), source="tester"))])
    assert keep == [] and drop == [5]


@pytest.mark.unit
async def test_events_naming_an_erased_volunteer_or_staff_member_in_the_body_are_split_off():
    store = MemoryStore()
    store.collections["im_erased"] = {
        erasure_keys.key("sw-gone"): {"_id": "x", "person": "staff"},
        erasure_keys.key("r-gone"): {"_id": "y", "person": "resident"},
        erasure_keys.key("r-old"): {"_id": "z"}}  # recorded before kinds were
    assert await store.erased_keys(people=True) == {erasure_keys.key("sw-gone")}
    erased = ErasedKeys()
    erased.keys |= await store.erased_keys()
    erased.people |= await store.erased_keys(people=True)
    events = [(0, wrap(StaffAssigned(staff_id="sw-gone", site_ids=["s-1"]), source="housing")),
              (1, wrap(StaffAssigned(staff_id="sw-here", site_ids=["s-1"]), source="housing")),
              (2, wrap(StaffAssigned(staff_id="sw-here", site_ids=["sw-gone"]),
                       source="housing")),  # named anywhere in the body, lists too
              # a resident's id in a body is not a reason: residents go by subject
              (3, wrap(StaffAssigned(staff_id="sw-here", site_ids=["r-gone"]),
                       source="housing"))]
    keep, drop = erased.split(events)
    assert [m for m, _ in keep] == [1, 3] and drop == [0, 2]
    # a staff member's erasure seen on the bus counts at once, by its kind
    erased.add("v-next", "volunteer")
    erased.add("r-next")
    later = [(5, wrap(StaffAssigned(staff_id="v-next", site_ids=[]), source="housing")),
             (6, wrap(StaffAssigned(staff_id="r-next", site_ids=[]), source="housing"))]
    keep, drop = erased.split(later)
    assert drop == [5] and [m for m, _ in keep] == [6]


@pytest.mark.unit
async def test_the_report_counts_documents_mentioning_the_terms_and_needs_a_reader_role():
    store = MemoryStore()
    store.collections = {"counters": {"r-1": {"_id": "r-1", "total": 3}},
                         "notes": {"n-1": {"_id": "n-1", "text": "Amira Haddad called"},
                                   "n-2": {"_id": "n-2", "text": "someone else"}}}
    found = await report(pv.GetPrivacyReport(terms=["r-1", "Haddad"], actor=ADMIN),
                         store.unit_of_work("probe"))
    assert found == {"collections": {"counters": 1, "notes": 1}, "documents": 2}
    with pytest.raises(Forbidden):
        await report(pv.GetPrivacyReport(
            terms=["r-1"], actor=Actor(subject="sw", role="social_worker")),
            store.unit_of_work("probe"))


RULES = replace(spec, retention=(
    Retention("old_counters", "counters", after="touched", days=30, where={"done": True}),))


@pytest.mark.unit
async def test_retention_removes_only_what_is_past_its_period_and_dry_runs_only_list():
    store = MemoryStore()
    store.collections["counters"] = {
        "old": {"_id": "old", "done": True, "touched": datetime(2026, 1, 1, tzinfo=UTC)},
        "open": {"_id": "open", "done": False, "touched": datetime(2026, 1, 1, tzinfo=UTC)},
        "new": {"_id": "new", "done": True, "touched": datetime(2026, 3, 1, tzinfo=UTC)}}
    as_of = datetime(2026, 3, 10, tzinfo=UTC)
    uow = store.unit_of_work("probe")
    listed = await apply_retention(RULES, uow, as_of, dry_run=True)
    await uow.commit()
    assert listed["rules"]["old_counters"]["ids"] == ["old"]
    assert set(store.collections["counters"]) == {"old", "open", "new"} and not store.outbox
    uow = store.unit_of_work("probe")
    await apply_retention(RULES, uow, as_of, dry_run=False)
    await uow.commit()
    assert set(store.collections["counters"]) == {"open", "new"}
    (entry,) = store.outbox  # one event per run
    event = msgspec.json.decode(entry.body, type=CloudEvent[pv.RetentionApplied])
    assert event.data.removed == {"old_counters": 1}


@pytest.mark.unit
def test_retention_periods_can_be_overridden_and_bad_values_are_named():
    rule = RULES.retention[0]
    assert period(RULES, rule, {}) == 30
    assert period(RULES, rule, {"IM_RETENTION_PROBE_OLD_COUNTERS": "7"}) == 7
    for bad in ("soon", "-1", "1.5"):
        with pytest.raises(ValueError, match="IM_RETENTION_PROBE_OLD_COUNTERS"):
            period(RULES, rule, {"IM_RETENTION_PROBE_OLD_COUNTERS": bad})


@pytest.mark.unit
async def test_only_admins_apply_retention_and_auditors_may_list():
    store = MemoryStore()
    run = retention_handler(RULES)
    for role in ("social_worker", "operator", "provider"):
        with pytest.raises(Forbidden):
            await run(pv.RunRetention(actor=Actor(subject="x", role=role)),
                      store.unit_of_work("probe"))
    with pytest.raises(Forbidden):
        await run(pv.RunRetention(dry_run=False, actor=Actor(subject="a", role="auditor")),
                  store.unit_of_work("probe"))
    with pytest.raises(Forbidden):
        await apply_handler(RULES)(pv.ApplyRetention(actor=Actor(subject="a", role="auditor")),
                                   store.unit_of_work("probe"))
    with pytest.raises(ValueError, match="apply_retention"):  # a query only reads
        await run(pv.RunRetention(dry_run=False, actor=ADMIN), store.unit_of_work("probe"))
    assert await run(pv.RunRetention(actor=Actor(subject="a", role="auditor")),
                     store.unit_of_work("probe"))
    assert await retention_handler(spec)(pv.RunRetention(actor=ADMIN),
                                         store.unit_of_work("probe")) is None


@pytest.mark.unit
def test_every_service_gets_the_privacy_messages_once():
    eff = effective(spec)
    assert effective(eff) is eff
    assert pv.ErasureConfirmed in eff.publishes
    assert "privacy" in eff.source_streams()
    assert {a.name for a in eff.queries} >= {pv.PRIVACY_REPORT, pv.RETENTION}
    assert pv.APPLY_RETENTION not in {h.name for h in eff.commands}  # the probe has no rules
    assert pv.APPLY_RETENTION in {h.name for h in effective(RULES).commands}


# with the real servers -----------------------------------------------------------------

async def confirmations(js: Any, erasure_id: str) -> list[pv.ErasureConfirmed]:
    return [c for c in await stream_events(js, subj.event("privacy", "erasure_confirmed"),
                                           pv.ErasureConfirmed) if c.erasure_id == erasure_id]


@pytest.mark.integration
async def test_a_service_erases_confirms_and_then_drops_late_events(settings, nc):
    js = nc.jetstream()
    rt = ServiceRuntime(spec, settings)
    await rt.start()
    try:
        rid = f"r-{uuid.uuid4().hex[:10]}"
        ping = wrap(Pinged(resident_id=rid, by=2), source="tester")
        await js.publish(subj.event("tester", "pinged", rid), msgspec.json.encode(ping),
                         headers={"Nats-Msg-Id": ping.id})
        counters = rt.store.db["counters"]
        await eventually(lambda: counters.find_one({"_id": rid}))
        erasure_id = f"erasure-{uuid.uuid4().hex[:8]}"
        request = wrap(pv.ErasureRequested(erasure_id=erasure_id, resident_id=rid,
                                           requested_at=datetime.now(UTC)), source="privacy")
        await js.publish(subj.event("privacy", "erasure_requested", rid),
                         msgspec.json.encode(request), headers={"Nats-Msg-Id": request.id})
        (confirmed,) = await eventually(lambda: confirmations(js, erasure_id), timeout=15)
        assert confirmed.service == "probe" and confirmed.removed == {"counters": 1}
        assert await counters.find_one({"_id": rid}) is None
        # a ping about the resident arriving late must not bring the counter back
        late = wrap(Pinged(resident_id=rid, by=5), source="tester")
        await js.publish(subj.event("tester", "pinged", rid), msgspec.json.encode(late),
                         headers={"Nats-Msg-Id": late.id})
        await eventually(lambda: rt.metrics.erased_dropped.labels("probe")._value.get() >= 1)
        assert await counters.find_one({"_id": rid}) is None
    finally:
        await rt.stop()
