"""Erasure requests and their status. The ledger knows a resident only by the erasure
key; the id itself is kept (`pending_resident`) only while the request is still open,
as long as the request message itself is on the bus, and goes with the final purge, as
does the request's free text (`reason`; the category stays). A request waits for a
second city administrator's approval (four eyes, approval.py) unless the platform is
configured otherwise; only then does it go out."""

from __future__ import annotations

import logging
from typing import Any

from contracts import privacy as pv
from contracts import utcnow
from im_runtime import DomainError, Forbidden, NotFound, UnitOfWork, erasure_keys
from im_runtime.ids import derived
from im_runtime.spec import WorkerContext
from privacy import four_eyes

log = logging.getLogger("im.privacy.ledger")
ERASURES = "erasures"
REQUESTERS = ("city_admin", "system")
READERS = ("city_admin", "auditor", "system")


async def find(uow: UnitOfWork, resident_id: str) -> dict[str, Any] | None:
    # Under its key, or its legacy key until `upgrade_keys` has rewritten it.
    wanted = [erasure_keys.key(resident_id), pv.legacy_erasure_key(resident_id)]
    found = await uow.find(ERASURES, {"key": {"$in": wanted}})
    return found[0] if found else None


async def upgrade_keys(ctx: WorkerContext) -> None:
    """Once at start: entries recorded before the platform had an erasure secret get
    keys made with it (the legacy ones can be reversed by trying ids)."""
    uow = ctx.store.unit_of_work(pv.SERVICE)
    old = [d for d in await uow.find(ERASURES) if erasure_keys.upgrade(d["key"]) != d["key"]]
    for doc in old:
        uow.put(ERASURES, {**doc, "key": erasure_keys.upgrade(doc["key"])})
    if old:
        await uow.commit()
        log.info("erasure keys upgraded", extra={"entries": len(old)})


def status(doc: dict[str, Any], *, with_reason: bool = False) -> pv.ErasureStatus:
    """The entry as an answer. The free text only where `with_reason`: the answers of
    commands that change the ledger are stored for retries, where it would outlive the
    erasure."""
    confirmed = doc["confirmations"]
    expected = doc.get("expected") or []
    return pv.ErasureStatus(
        erasure_id=doc["_id"], key=erasure_keys.upgrade(doc["key"]),
        reason=doc.get("reason") if with_reason else None,
        category=doc.get("category", "other"), state=doc.get("state", four_eyes.APPROVED),
        approved_by=doc.get("approved_by"), approved_at=doc.get("approved_at"),
        person=doc.get("person", "resident"),
        requested_by=doc["requested_by"], requested_at=doc["requested_at"],
        expected=expected,
        confirmations=[pv.Confirmation(**c) for _, c in sorted(confirmed.items())],
        pending=[s for s in expected if s not in confirmed],
        purges=[pv.Purge(**p) for p in doc["purges"]],
        complete=doc["complete"], completed_at=doc.get("completed_at"))


async def request_erasure(cmd: pv.RequestErasure, uow: UnitOfWork) -> pv.ErasureStatus:
    if cmd.actor.role not in REQUESTERS:
        raise Forbidden("only a city administrator may request an erasure",
                        details={"role": cmd.actor.role})
    existing = await find(uow, cmd.resident_id)
    if existing is not None:  # asked again: the erasure already under way (or done)
        return status(existing)
    try:
        second = four_eyes.enabled()
    except ValueError as exc:  # refused, nothing stored: the setting must be mended first
        raise DomainError(str(exc), code="unavailable") from None
    now = utcnow()
    erasure_id = derived("erasure", cmd.command_id)
    doc: dict[str, Any] = {"_id": erasure_id, "key": erasure_keys.key(cmd.resident_id),
           "category": cmd.category, "reason": cmd.reason, "person": cmd.person,
           "requested_by": cmd.actor.subject, "requested_at": now,
           "state": four_eyes.AWAITING if second else four_eyes.APPROVED,
           "approved_by": None, "approved_at": None,
           "pending_resident": cmd.resident_id, "expected": None, "confirmations": {},
           "purges": [], "complete": False, "completed_at": None}
    uow.put(ERASURES, doc)
    if not second:
        announce(uow, doc)
    return status(doc)


def announce(uow: UnitOfWork, doc: dict[str, Any]) -> None:
    """The request goes out: every service erases, the worker purges (purger.py)."""
    uow.emit(pv.ErasureRequested(erasure_id=doc["_id"], resident_id=doc["pending_resident"],
                                 requested_at=doc["requested_at"],
                                 person=doc.get("person", "resident")))


async def get_erasure(cmd: pv.GetErasure, uow: UnitOfWork) -> pv.ErasureStatus:
    if cmd.actor.role not in READERS:
        raise Forbidden("only city administrators and auditors may see erasures",
                        details={"role": cmd.actor.role})
    doc = await find(uow, cmd.resident_id)
    if doc is None:
        raise NotFound("no erasure of this resident was requested",
                       details={"resident_id": cmd.resident_id})
    return status(doc, with_reason=True)


async def list_erasures(cmd: pv.ListErasures, uow: UnitOfWork) -> pv.ErasureKeys:
    # Only for the platform itself (the gateway's 410s): a key of a short id can be
    # reversed by trying every id, so users never get the list.
    if cmd.actor.role != "system":
        raise Forbidden("only the platform itself may list erasure keys",
                        details={"role": cmd.actor.role})
    # Requests still awaiting approval are not erasures (yet): their residents stay.
    approved = [d for d in await uow.find(ERASURES) if four_eyes.approved(d)]
    return pv.ErasureKeys(
        keys=sorted(erasure_keys.upgrade_all(d["key"] for d in approved)),
        staff=sorted(erasure_keys.upgrade_all(d["key"] for d in approved
                                              if d.get("person") == "staff")))


async def on_confirmed(event: Any, uow: UnitOfWork) -> None:
    data: pv.ErasureConfirmed = event.data
    doc = await uow.get(ERASURES, data.erasure_id)
    if doc is None:
        return  # a confirmation of an erasure some other ledger ran (nothing to record)
    doc["confirmations"][data.service] = {
        "service": data.service, "instance": data.instance, "removed": data.removed,
        "anonymised": data.anonymised, "confirmed_at": data.confirmed_at}
    uow.put(ERASURES, doc)


async def city_stats(query: Any, uow: UnitOfWork) -> dict[str, Any]:
    return {"erasures": await uow.count(ERASURES),
            "erasures_awaiting_approval": await uow.count(ERASURES,
                                                          {"state": four_eyes.AWAITING}),
            "erasures_complete": await uow.count(ERASURES, {"complete": True})}
