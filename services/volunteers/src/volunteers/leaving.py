"""A volunteer who stops: no new tandems from then on, and their registration goes a year
later by retention (`former_volunteers`), their events with it, as a resident's go after
moving out. Their tandems must be ended first (each is the resident's too)."""

from __future__ import annotations

from contracts import utcnow
from im_runtime import Conflict, UnitOfWork
from im_runtime.access import STAFF, require_role
from volunteers import store
from volunteers.commands import volunteer_view
from volunteers.contracts import RetireVolunteer, VolunteerView
from volunteers.domain import OPEN_STATES


async def retire_volunteer(cmd: RetireVolunteer, uow: UnitOfWork) -> VolunteerView:
    require_role(cmd.actor, STAFF, "record that a volunteer stops")
    doc = await store.volunteer(uow, cmd.volunteer_id)
    if doc.get("left_at") is not None:
        return await volunteer_view(uow, doc)  # stopped before: the same answer
    open_ = [m["_id"] for m in await uow.find(store.MATCHES, {"volunteer_id": doc["_id"]})
             if m["state"] in OPEN_STATES]
    if open_:
        raise Conflict(f"volunteer {doc['_id']} still has open tandems; end them first",
                       details={"matches": ", ".join(sorted(open_))})
    doc.update(left_at=utcnow(), capacity=0)
    uow.put(store.VOLUNTEERS, doc)
    return await volunteer_view(uow, doc)
