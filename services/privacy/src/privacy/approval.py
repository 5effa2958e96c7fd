"""The second pair of eyes on an erasure (four_eyes.py): another city administrator
approves a request, and only then it goes out to every service; or any city
administrator (the requester withdrawing it included) rejects it, and the resident stays.
A rejected request leaves the ledger: `erasure_rejections` keeps who asked, who rejected,
when and the category, under the one-way key, never the id or the free text."""

from __future__ import annotations

from typing import Any

from contracts import privacy as pv
from contracts import utcnow
from im_runtime import Conflict, Forbidden, NotFound, UnitOfWork
from privacy import four_eyes
from privacy.ledger import ERASURES, announce, find, status

REJECTIONS = "erasure_rejections"
DECIDERS = ("city_admin",)
READERS = ("city_admin", "auditor")


def _may_decide(cmd: Any) -> None:
    if cmd.actor.role not in DECIDERS:
        raise Forbidden("only a city administrator may approve or reject an erasure",
                        details={"role": cmd.actor.role})


async def _awaiting(uow: UnitOfWork, resident_id: str) -> dict[str, Any]:
    doc = await find(uow, resident_id)
    if doc is None:
        raise NotFound("no erasure of this resident awaits approval",
                       details={"resident_id": resident_id})
    return doc


async def approve_erasure(cmd: pv.ApproveErasure, uow: UnitOfWork) -> pv.ErasureStatus:
    _may_decide(cmd)
    doc = await _awaiting(uow, cmd.resident_id)
    if four_eyes.approved(doc):  # approved before (or never needed it): nothing more
        return status(doc)
    if doc["requested_by"] == cmd.actor.subject:
        raise Forbidden("an erasure must be approved by a different city administrator "
                        "than the one who requested it",
                        details={"requested_by": doc["requested_by"]})
    doc.update(state=four_eyes.APPROVED, approved_by=cmd.actor.subject, approved_at=utcnow())
    uow.put(ERASURES, doc)
    announce(uow, doc)
    return status(doc)


async def reject_erasure(cmd: pv.RejectErasure, uow: UnitOfWork) -> pv.ErasureStatus:
    _may_decide(cmd)
    doc = await _awaiting(uow, cmd.resident_id)
    if four_eyes.approved(doc):
        raise Conflict("this erasure was approved and is under way; it cannot be stopped",
                       details={"approved_by": doc.get("approved_by") or ""})
    now = utcnow()
    await uow.delete(ERASURES, doc["_id"])
    uow.put(REJECTIONS, {"_id": doc["_id"], "key": doc["key"], "category": doc["category"],
                         "person": doc.get("person", "resident"),
                         "requested_by": doc["requested_by"],
                         "requested_at": doc["requested_at"],
                         "rejected_by": cmd.actor.subject, "rejected_at": now})
    return pv.ErasureStatus(
        erasure_id=doc["_id"], key=doc["key"], category=doc["category"],
        state="rejected", person=doc.get("person", "resident"), requested_by=doc["requested_by"],
        requested_at=doc["requested_at"])


async def list_pending(cmd: pv.ListPendingErasures, uow: UnitOfWork) -> pv.PendingErasures:
    if cmd.actor.role not in READERS:
        raise Forbidden("only city administrators and auditors may see erasure requests",
                        details={"role": cmd.actor.role})
    docs = sorted(await uow.find(ERASURES, {"state": four_eyes.AWAITING}),
                  key=lambda d: d["requested_at"])
    return pv.PendingErasures(pending=[pv.PendingErasure(
        erasure_id=d["_id"], resident_id=d["pending_resident"], category=d["category"],
        reason=d.get("reason"), requested_by=d["requested_by"],
        requested_at=d["requested_at"], person=d.get("person", "resident")) for d in docs])
