"""What counselling knows from housing: each site's operator and each resident's current
site. A resident leaving an operator's shelters (moved out, or transferred to another
operator) closes that operator's case; later facts win, so order does not matter."""

from __future__ import annotations

from typing import Any

from contracts import CloudEvent
from contracts.housing import ResidentMovedOut, ResidentPlaced, ResidentTransferred, SiteRegistered
from counselling import cases, store
from im_runtime import UnitOfWork

# Of two housing facts at the same instant, the later in a resident's way wins.
RANK: dict[type, int] = {ResidentPlaced: 0, ResidentTransferred: 1, ResidentMovedOut: 2}


async def on_site_registered(event: CloudEvent[SiteRegistered], uow: UnitOfWork) -> None:
    data = event.data
    uow.put(store.SITES, {"_id": data.site_id, "operator_id": data.operator_id,
                          "kind": data.kind, "district": data.district})


async def _learn_site(uow: UnitOfWork, site_id: str, operator_id: str | None) -> None:
    if operator_id is not None and await uow.get(store.SITES, site_id) is None:
        uow.put(store.SITES, {"_id": site_id, "operator_id": operator_id, "kind": None})


async def on_resident_moved(event: CloudEvent[Any], uow: UnitOfWork) -> None:
    data = event.data
    at = [event.time.timestamp(), RANK[type(data)]]
    known = await uow.get(store.RESIDENTS, data.resident_id)
    doc = known or {"_id": data.resident_id, "site_id": None, "operator_id": None, "at": None}
    if doc["at"] is not None and list(doc["at"]) > at:
        return  # an older fact than the one already known
    left = doc.get("operator_id")
    if isinstance(data, ResidentMovedOut):
        left = data.operator_id or left
        doc.update(site_id=None, operator_id=None)
    else:
        if isinstance(data, ResidentTransferred):
            left = data.from_operator_id or left
        await _learn_site(uow, data.site_id, data.operator_id)
        site = await uow.get(store.SITES, data.site_id) or {}
        doc.update(site_id=data.site_id, operator_id=data.operator_id or site.get("operator_id"))
    doc["at"] = at
    # Retention of what is known about a resident runs from moving out.
    doc["moved_out_at"] = event.time if isinstance(data, ResidentMovedOut) else None
    uow.put(store.RESIDENTS, doc)
    on = event.time.date().isoformat()
    if left is not None and left != doc["operator_id"]:
        await cases.close(uow, left, data.resident_id, on)
    if doc["operator_id"] is not None:
        await cases.reopen(uow, doc["operator_id"], data.resident_id, known=known is not None)
