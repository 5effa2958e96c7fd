"""Deployment of the city's social workers to sites, with its history."""

from __future__ import annotations

from contracts import utcnow
from contracts._base import Ack
from contracts.housing import StaffAssigned
from contracts.housing_commands import AssignStaff
from housing import store
from im_runtime import UnitOfWork
from im_runtime.access import ADMIN, require_role


async def assign_staff(cmd: AssignStaff, uow: UnitOfWork) -> Ack:
    require_role(cmd.actor, ADMIN, "deploy staff")
    for site_id in cmd.site_ids:
        await store.site(uow, site_id)
    doc = await uow.get(store.STAFF, cmd.staff_id) or {
        "_id": cmd.staff_id, "name": cmd.name, "site_ids": [], "history": []}
    previous = list(doc["site_ids"])
    wanted = sorted(set(cmd.site_ids))
    if previous == wanted and doc["name"] == cmd.name:
        return Ack(id=cmd.staff_id)
    doc["name"] = cmd.name
    doc["site_ids"] = wanted
    doc["history"].append({"site_ids": wanted, "at": utcnow().isoformat(),
                           "by": cmd.actor.subject})
    uow.put(store.STAFF, doc)
    uow.emit(StaffAssigned(staff_id=cmd.staff_id, site_ids=wanted, previous_site_ids=previous))
    return Ack(id=cmd.staff_id)
