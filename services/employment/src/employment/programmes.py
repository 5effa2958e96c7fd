"""Programmes run with non-profit providers, their eligibility rules, and phases."""

from __future__ import annotations

from typing import Any

from contracts.employment import PhaseAdded, PhaseChanged, ProgrammeCreated
from contracts.employment_commands import (
    AddPhase,
    ChangePhase,
    CreateProgramme,
    GetProgramme,
    PhaseView,
    ProgrammeView,
)
from employment import store
from employment.lifecycle import promote_waitlist
from im_runtime import Conflict, DomainError, UnitOfWork
from im_runtime.access import ADMIN, STAFF, require_role


def phase_view(doc: dict[str, Any]) -> PhaseView:
    return PhaseView(phase=doc["number"], starts=doc["starts"], ends=doc["ends"],
                     capacity=doc["capacity"], phase_status=doc["status"], taken=doc["taken"],
                     waitlisted=doc["waitlisted"])


async def view(uow: UnitOfWork, doc: dict[str, Any]) -> ProgrammeView:
    phases = await uow.find(store.PHASES, {"programme_id": doc["_id"]}, sort=[("number", 1)])
    return ProgrammeView(
        programme_id=doc["_id"], name=doc["name"], providers=doc["providers"],
        allowed_statuses=doc["allowed_statuses"], min_age=doc["min_age"],
        language_course_required=doc["language_course_required"],
        phases=[phase_view(p) for p in phases])


async def create_programme(cmd: CreateProgramme, uow: UnitOfWork) -> ProgrammeView:
    require_role(cmd.actor, ADMIN, "create programmes")
    if await uow.get(store.PROGRAMMES, cmd.programme_id) is not None:
        raise Conflict(f"programme {cmd.programme_id!r} exists already",
                       details={"programme_id": cmd.programme_id})
    providers, statuses = sorted(set(cmd.providers)), sorted(set(cmd.allowed_statuses))
    doc = {"_id": cmd.programme_id, "name": cmd.name, "providers": providers,
           "allowed_statuses": statuses, "min_age": cmd.min_age,
           "language_course_required": cmd.language_course_required}
    uow.put(store.PROGRAMMES, doc)
    uow.emit(ProgrammeCreated(
        programme_id=cmd.programme_id, name=cmd.name, providers=providers,
        allowed_statuses=statuses, min_age=cmd.min_age,
        language_course_required=cmd.language_course_required))
    return await view(uow, doc)


async def add_phase(cmd: AddPhase, uow: UnitOfWork) -> ProgrammeView:
    require_role(cmd.actor, ADMIN, "add phases")
    programme = await store.programme(uow, cmd.programme_id)
    if cmd.ends < cmd.starts:
        raise DomainError("a phase cannot end before it starts",
                          details={"starts": cmd.starts.isoformat(), "ends": cmd.ends.isoformat()})
    key = store.phase_key(cmd.programme_id, cmd.phase)
    if await uow.get(store.PHASES, key) is not None:
        raise Conflict(f"programme {cmd.programme_id} has a phase {cmd.phase} already",
                       details={"programme_id": cmd.programme_id, "phase": str(cmd.phase)})
    uow.put(store.PHASES, {
        "_id": key, "programme_id": cmd.programme_id, "number": cmd.phase,
        "starts": cmd.starts.isoformat(), "ends": cmd.ends.isoformat(),
        "capacity": cmd.capacity, "status": cmd.status, "taken": 0, "waitlisted": 0,
        "next_position": 1})
    uow.emit(PhaseAdded(programme_id=cmd.programme_id, phase=cmd.phase, starts=cmd.starts,
                        ends=cmd.ends, capacity=cmd.capacity, status=cmd.status))
    return await view(uow, programme)


async def change_phase(cmd: ChangePhase, uow: UnitOfWork) -> ProgrammeView:
    require_role(cmd.actor, ADMIN, "change phases")
    programme = await store.programme(uow, cmd.programme_id)
    phase = await store.phase(uow, cmd.programme_id, cmd.phase)
    capacity = phase["capacity"] if cmd.capacity is None else cmd.capacity
    status = cmd.status or phase["status"]
    if capacity < phase["taken"]:
        raise Conflict(f"phase {cmd.phase} has {phase['taken']} participants; its capacity "
                       f"cannot go below that",
                       details={"phase": str(cmd.phase), "taken": str(phase["taken"])})
    if phase["status"] == "closed" and status != "closed":
        raise Conflict(f"phase {cmd.phase} is closed; it cannot reopen",
                       details={"phase": str(cmd.phase), "phase_status": "closed"})
    if (capacity, status) != (phase["capacity"], phase["status"]):
        phase["capacity"], phase["status"] = capacity, status
        uow.emit(PhaseChanged(programme_id=cmd.programme_id, phase=cmd.phase,
                              capacity=capacity, status=status))
        uow.put(store.PHASES, phase)
        await promote_waitlist(uow, programme, phase)
    return await view(uow, programme)


async def get_programme(cmd: GetProgramme, uow: UnitOfWork) -> ProgrammeView:
    require_role(cmd.actor, (*STAFF, "provider", "auditor"), "read programmes")
    return await view(uow, await store.programme(uow, cmd.programme_id))
