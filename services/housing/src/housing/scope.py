"""Which sites a worklist covers: one site, the sites of a district, and for a social
worker never more than her own. Shared by the worklists that filter by site and district."""

from __future__ import annotations

from typing import Any

from contracts import Actor
from housing import store
from im_runtime import UnitOfWork
from im_runtime.access import require_site


async def site_filter(uow: UnitOfWork, actor: Actor, site_id: str | None,
                      district: str | None, what: str) -> Any:
    """The `site_id` condition of a worklist's filter (None: every site)."""
    if site_id is not None:
        require_site(actor, site_id, what)
        if district is not None:
            site = await uow.get(store.SITES, site_id)
            return site_id if site and site.get("district") == district else {"$in": []}
        return site_id
    wanted: set[str] | None = None
    if district is not None:
        wanted = {s["_id"] for s in await uow.find(store.SITES, {"district": district})}
    if actor.role == "social_worker":  # her sites, all of them
        wanted = set(actor.sites) if wanted is None else wanted & set(actor.sites)
    return None if wanted is None else {"$in": sorted(wanted)}
