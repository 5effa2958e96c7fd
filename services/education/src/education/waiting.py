"""The worklist of Kita and school requests: those not yet concluded, the longest waiting
first, by kind, site and district. Read from memory; a social worker sees her sites'."""

from __future__ import annotations

from typing import Any

from contracts.education_commands import AccessPage, ListAccessRequests
from education import store
from education.schooling import view
from im_runtime import UnitOfWork
from im_runtime.access import STAFF, require_role, require_site

WAITING = ["open", "offered"]


def _where(cmd: ListAccessRequests) -> dict[str, Any]:
    flt: dict[str, Any] = {**store.PEOPLE_ONLY,
                           "status": cmd.status if cmd.status else {"$in": WAITING}}
    for name in ("kind", "district"):
        if getattr(cmd, name) is not None:
            flt[name] = getattr(cmd, name)
    if cmd.site_id is not None:
        require_site(cmd.actor, cmd.site_id, "list its Kita and school requests")
        flt["site_id"] = cmd.site_id
    elif cmd.actor.role == "social_worker":
        flt["site_id"] = {"$in": list(cmd.actor.sites)}
    return flt


async def list_access_requests(cmd: ListAccessRequests, uow: UnitOfWork) -> AccessPage:
    require_role(cmd.actor, STAFF, "list Kita and school requests")
    flt = _where(cmd)
    docs = await uow.find(store.ACCESS, flt, sort=[("opened_at", 1), ("_id", 1)],
                          skip=cmd.offset, limit=cmd.limit)
    return AccessPage(items=[view(d) for d in docs], total=await uow.count(store.ACCESS, flt),
                      offset=cmd.offset, limit=cmd.limit)
