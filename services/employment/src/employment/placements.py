"""Placements into an internship, vocational training or a job: each completes the
participation it came from."""

from __future__ import annotations

from contracts import utcnow
from contracts.employment import PlacementRecorded
from contracts.employment_commands import ParticipationView, RecordPlacement
from employment import store
from employment.access import require_programme_staff
from employment.lifecycle import complete, ids, view
from im_runtime import Conflict, UnitOfWork
from im_runtime.ids import derived


async def record_placement(cmd: RecordPlacement, uow: UnitOfWork) -> ParticipationView:
    doc = await store.participation(uow, cmd.participation_id)
    programme = await store.programme(uow, doc["programme_id"])
    resident = await uow.get(store.RESIDENTS, doc["resident_id"])
    require_programme_staff(cmd.actor, programme, resident, "record placements")
    if doc["status"] != "active":
        raise Conflict(f"only an active participant is placed; {doc['_id']} is {doc['status']}",
                       details={"participation_id": doc["_id"], "state": doc["status"]})
    placement_id = derived("pl", cmd.command_id)
    uow.put(store.PLACEMENTS, {
        "_id": placement_id, "participation_id": doc["_id"], "resident_id": doc["resident_id"],
        "programme_id": doc["programme_id"], "phase": doc["phase"], "kind": cmd.kind,
        "sector": cmd.sector, "starts": cmd.starts.isoformat(), "hours": cmd.hours,
        "recorded_at": utcnow()})
    uow.emit(PlacementRecorded(**ids(doc), placement_id=placement_id, kind=cmd.kind,
                               sector=cmd.sector, starts=cmd.starts, hours=cmd.hours))
    await complete(uow, doc, cmd.actor.subject, placement_id)
    return view(doc)
