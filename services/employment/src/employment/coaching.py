"""Coaching on work and qualification by the city's social workers, meeting the coaching
needs that referrals open (`referrals.py`)."""

from __future__ import annotations

from contracts.employment import CoachingRecorded
from contracts.employment_commands import CoachingView, RecordCoaching
from employment import store
from im_runtime import Conflict, NotFound, UnitOfWork
from im_runtime.access import STAFF, require_role, require_site
from im_runtime.ids import derived


async def record_coaching(cmd: RecordCoaching, uow: UnitOfWork) -> CoachingView:
    require_role(cmd.actor, STAFF, "record coaching")
    resident = await store.resident(uow, cmd.resident_id)
    require_site(cmd.actor, resident.get("site_id"), "coach this resident")
    if cmd.need_id is not None:
        need = await uow.get(store.NEEDS, cmd.need_id)
        if need is None or need["resident_id"] != cmd.resident_id:
            raise NotFound(f"resident {cmd.resident_id} has no coaching need {cmd.need_id!r}",
                           details={"need_id": cmd.need_id})
        if not need["open"]:
            raise Conflict(f"coaching need {cmd.need_id} has been met already",
                           details={"need_id": cmd.need_id})
        need["open"] = False
        uow.put(store.NEEDS, need)
    coaching_id = derived("co", cmd.command_id)
    uow.put(store.COACHING, {"_id": coaching_id, "resident_id": cmd.resident_id,
                             "topic": cmd.topic, "on": cmd.on.isoformat(),
                             "need_id": cmd.need_id, "summary": cmd.summary,
                             "by": cmd.actor.subject})
    uow.emit(CoachingRecorded(resident_id=cmd.resident_id, coaching_id=coaching_id,
                              topic=cmd.topic, on=cmd.on, need_id=cmd.need_id))
    open_needs = await uow.count(store.NEEDS, {"resident_id": cmd.resident_id, "open": True})
    return CoachingView(coaching_id=coaching_id, resident_id=cmd.resident_id, topic=cmd.topic,
                        on=cmd.on, need_id=cmd.need_id, open_needs=open_needs)
