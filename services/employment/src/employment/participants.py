"""Participants per phase: registration (or the waitlist), activation, moving on to the
next phase, completion and drop-out. Seats are counted on the phase document, so two
registrations for the last seat conflict and one is retried."""

from __future__ import annotations

from typing import Any

from contracts import utcnow
from contracts.employment import (
    ParticipantActivated,
    ParticipantMovedToNextPhase,
    ParticipantRegistered,
)
from contracts.employment_commands import (
    ActivateParticipant,
    CompleteParticipation,
    DropOutParticipant,
    MoveToNextPhase,
    ParticipationView,
    RegisterParticipant,
)
from employment import store
from employment.access import require_programme_staff
from employment.domain import OPEN, SEATED, eligibility, has_free_seat, holds_course, seated_status
from employment.lifecycle import complete, drop_out, free_seat, ids, set_status, view
from im_runtime import Conflict, UnitOfWork
from im_runtime.ids import derived


async def register_participant(cmd: RegisterParticipant, uow: UnitOfWork) -> ParticipationView:
    programme = await store.programme(uow, cmd.programme_id)
    resident = await store.resident(uow, cmd.resident_id)
    require_programme_staff(cmd.actor, programme, resident, "register participants")
    phase = await store.phase(uow, cmd.programme_id, cmd.phase)
    if phase["status"] == "closed":
        raise Conflict(f"phase {cmd.phase} of {cmd.programme_id} is closed",
                       details={"phase": str(cmd.phase), "phase_status": "closed"})
    eligibility(programme, phase, resident)
    for other in await uow.find(store.PARTICIPATIONS, {"resident_id": cmd.resident_id,
                                                       "programme_id": cmd.programme_id}):
        if other["status"] in OPEN:
            raise Conflict(f"the resident takes part in {cmd.programme_id} already",
                           details={"participation_id": other["_id"], "state": other["status"]})
    doc: dict[str, Any] = {
        "_id": derived("pt", cmd.command_id), "resident_id": cmd.resident_id,
        "programme_id": cmd.programme_id, "phase": cmd.phase, "flags": [],
        "registered_at": utcnow().timestamp(), "history": []}
    if has_free_seat(phase):
        doc["status"], doc["position"] = seated_status(programme, resident), None
        phase["taken"] += 1
    else:
        doc["status"], doc["position"] = "waitlisted", phase["next_position"]
        phase["next_position"] += 1
        phase["waitlisted"] += 1
    uow.put(store.PHASES, phase)
    uow.put(store.PARTICIPATIONS, doc)
    uow.emit(ParticipantRegistered(**ids(doc), status=doc["status"], position=doc["position"]))
    return view(doc)


async def _load(uow: UnitOfWork, cmd: Any, what: str) -> tuple[dict[str, Any], dict[str, Any],
                                                                dict[str, Any] | None]:
    doc = await store.participation(uow, cmd.participation_id)
    programme = await store.programme(uow, doc["programme_id"])
    resident = await uow.get(store.RESIDENTS, doc["resident_id"])
    require_programme_staff(cmd.actor, programme, resident, what)
    return doc, programme, resident


async def activate_participant(cmd: ActivateParticipant, uow: UnitOfWork) -> ParticipationView:
    doc, programme, resident = await _load(uow, cmd, "activate participants")
    if doc["status"] == "waiting_for_language_course" or (
            doc["status"] == "registered" and programme["language_course_required"]
            and not holds_course(resident or {})):
        raise Conflict("the programme requires a concurrent language course the resident "
                       "does not have; they are activated when they are enrolled",
                       details={"participation_id": doc["_id"], "state": doc["status"],
                                "rule": "language_course_required"})
    set_status(doc, "active", cmd.actor.subject)
    uow.put(store.PARTICIPATIONS, doc)
    uow.emit(ParticipantActivated(**ids(doc)))
    return view(doc)


async def complete_participation(cmd: CompleteParticipation,
                                 uow: UnitOfWork) -> ParticipationView:
    doc, _, _ = await _load(uow, cmd, "complete participations")
    await complete(uow, doc, cmd.actor.subject, None)
    return view(doc)


async def drop_out_participant(cmd: DropOutParticipant, uow: UnitOfWork) -> ParticipationView:
    doc, programme, _ = await _load(uow, cmd, "record drop-outs")
    await drop_out(uow, programme, doc, cmd.reason, cmd.actor.subject)
    return view(doc)


async def move_to_next_phase(cmd: MoveToNextPhase, uow: UnitOfWork) -> ParticipationView:
    doc, programme, resident = await _load(uow, cmd, "move participants")
    if doc["status"] not in SEATED - {"active"}:
        raise Conflict(f"only a registered participant moves to the next phase; "
                       f"{doc['_id']} is {doc['status']}",
                       details={"participation_id": doc["_id"], "state": doc["status"]})
    current = await store.phase(uow, doc["programme_id"], doc["phase"])
    target = await store.phase(uow, doc["programme_id"], doc["phase"] + 1)
    if target["status"] == "closed" or not has_free_seat(target):
        raise Conflict(f"phase {target['number']} has no free seat",
                       details={"phase": str(target["number"]), "phase_status": target["status"],
                                "capacity": str(target["capacity"]), "taken": str(target["taken"])})
    target["taken"] += 1
    uow.put(store.PHASES, target)
    from_phase = doc["phase"]
    doc["phase"] = target["number"]
    doc["status"] = seated_status(programme, resident or {})
    doc["history"].append({"from_phase": from_phase, "to_phase": doc["phase"],
                           "by": cmd.actor.subject, "at": utcnow().isoformat()})
    uow.put(store.PARTICIPATIONS, doc)
    uow.emit(ParticipantMovedToNextPhase(**ids(doc), from_phase=from_phase,
                                         status=doc["status"]))
    await free_seat(uow, programme, current)
    return view(doc)
