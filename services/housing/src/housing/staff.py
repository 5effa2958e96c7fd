"""Deployment of the city's social workers to sites, with its history."""

from __future__ import annotations

from datetime import datetime

from contracts import utcnow
from contracts._base import Ack
from contracts.housing import StaffAssigned
from contracts.housing_commands import AssignStaff, Deployment, GetStaff, StaffView
from housing import store
from im_runtime import UnitOfWork
from im_runtime.access import ADMIN, require_role
from im_runtime.errors import Forbidden
from im_runtime.privacy import refuse_if_erased


async def assign_staff(cmd: AssignStaff, uow: UnitOfWork) -> Ack:
    require_role(cmd.actor, ADMIN, "deploy staff")
    for site_id in cmd.site_ids:
        await store.site(uow, site_id)
    await refuse_if_erased(uow, cmd.staff_id, field="staff_id")
    doc = await uow.get(store.STAFF, cmd.staff_id) or {
        "_id": cmd.staff_id, "name": cmd.name, "site_ids": [], "history": []}
    previous = list(doc["site_ids"])
    wanted = sorted(set(cmd.site_ids))
    if previous == wanted and doc["name"] == cmd.name:
        return Ack(id=cmd.staff_id)
    doc["name"] = cmd.name
    doc["site_ids"] = wanted
    # Deployed nowhere: the retention period (`former_staff`) runs from now.
    doc["ended_at"] = None if wanted else utcnow()
    doc["history"].append({"site_ids": wanted, "at": utcnow().isoformat(),
                           "by": cmd.actor.subject})
    uow.put(store.STAFF, doc)
    uow.emit(StaffAssigned(staff_id=cmd.staff_id, site_ids=wanted, previous_site_ids=previous))
    return Ack(id=cmd.staff_id)


async def get_staff(cmd: GetStaff, uow: UnitOfWork) -> StaffView:
    """Where a social worker is deployed: the city asks for anyone, a social worker only
    for herself (the gateway asks with her own actor when she signs in)."""
    if cmd.actor.role == "social_worker" and cmd.actor.subject != cmd.staff_id:
        raise Forbidden(f"social worker {cmd.actor.subject} may read only her own deployment",
                        details={"staff_id": cmd.staff_id})
    if cmd.actor.role != "social_worker":
        require_role(cmd.actor, ADMIN, "read staff deployments")
    doc = await uow.get(store.STAFF, cmd.staff_id)
    if doc is None:
        return StaffView(staff_id=cmd.staff_id)
    return StaffView(staff_id=cmd.staff_id, name=doc["name"], site_ids=list(doc["site_ids"]),
                     history=[Deployment(site_ids=list(h["site_ids"]),
                                         at=datetime.fromisoformat(h["at"]), by=h["by"])
                              for h in doc.get("history", [])])
