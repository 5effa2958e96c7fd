"""Sites: communal shelters and apartments, their capacity and neighbour groups."""

from __future__ import annotations

from typing import Any

from contracts.housing import SiteCapacityChanged, SiteRegistered
from contracts.housing_commands import (
    ChangeSiteCapacity,
    ListSites,
    RegisterSite,
    SitePage,
    SiteView,
)
from housing import store
from im_runtime import Conflict, DomainError, UnitOfWork
from im_runtime.access import ADMIN, STAFF, require_role


def view(doc: dict[str, Any]) -> SiteView:
    return SiteView(site_id=doc["_id"], kind=doc["kind"], name=doc["name"],
                    operator_id=doc.get("operator_id"), address=doc["address"],
                    district=doc["district"], capacity=doc["capacity"],
                    occupancy=doc["occupancy"], group=doc.get("group"))


async def register_site(cmd: RegisterSite, uow: UnitOfWork) -> SiteView:
    require_role(cmd.actor, ADMIN, "register sites")
    if cmd.kind == "shelter" and not cmd.operator_id:
        raise DomainError("a communal shelter needs its operator_id",
                          details={"site_id": cmd.site_id})
    if await uow.get(store.SITES, cmd.site_id) is not None:
        raise Conflict(f"site {cmd.site_id!r} is already registered",
                       details={"site_id": cmd.site_id})
    doc = {"_id": cmd.site_id, "kind": cmd.kind, "name": cmd.name,
           "operator_id": cmd.operator_id, "address": cmd.address, "district": cmd.district,
           "capacity": cmd.capacity, "occupancy": 0, "group": cmd.group}
    uow.put(store.SITES, doc)
    uow.emit(SiteRegistered(site_id=cmd.site_id, kind=cmd.kind, name=cmd.name,
                            operator_id=cmd.operator_id, district=cmd.district,
                            capacity=cmd.capacity, group=cmd.group))
    return view(doc)


async def change_capacity(cmd: ChangeSiteCapacity, uow: UnitOfWork) -> SiteView:
    require_role(cmd.actor, ADMIN, "change site capacity")
    doc = await store.site(uow, cmd.site_id)
    if cmd.capacity < doc["occupancy"]:
        raise Conflict(f"site {cmd.site_id} has {doc['occupancy']} residents; capacity cannot "
                       f"go below that", details={"site_id": cmd.site_id,
                                                  "occupancy": str(doc["occupancy"])})
    doc["capacity"] = cmd.capacity
    uow.put(store.SITES, doc)
    uow.emit(SiteCapacityChanged(site_id=cmd.site_id, capacity=cmd.capacity))
    return view(doc)


async def list_sites(cmd: ListSites, uow: UnitOfWork) -> SitePage:
    require_role(cmd.actor, (*STAFF, "operator", "auditor"), "list sites")
    flt: dict[str, Any] = {}
    if cmd.kind:
        flt["kind"] = cmd.kind
    if cmd.district:
        flt["district"] = cmd.district
    if cmd.actor.role == "operator":
        flt["operator_id"] = cmd.actor.operator
    docs = await uow.find(store.SITES, flt, sort=[("_id", 1)], skip=cmd.offset, limit=cmd.limit)
    return SitePage(items=[view(d) for d in docs], total=await uow.count(store.SITES, flt),
                    offset=cmd.offset, limit=cmd.limit)
