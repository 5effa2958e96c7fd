"""A participation's way through its phase, shared by the commands and the event
handlers: status changes with history, completion, drop-out, and the seats they free."""

from __future__ import annotations

from typing import Any

from contracts import utcnow
from contracts.employment import ParticipantCompleted, ParticipantDroppedOut, ParticipantPromoted
from contracts.employment_commands import ParticipationView
from employment import store
from employment.domain import has_free_seat, seated_status, transition
from employment.referrals import complete_referrals
from im_runtime import UnitOfWork
from im_runtime.anonymous import NOT_STAND_IN


def view(doc: dict[str, Any]) -> ParticipationView:
    return ParticipationView(
        participation_id=doc["_id"], resident_id=doc["resident_id"],
        programme_id=doc["programme_id"], phase=doc["phase"], state=doc["status"],
        position=doc.get("position"), flags=doc.get("flags", []), reason=doc.get("reason"),
        placement_id=doc.get("placement_id"))


def ids(doc: dict[str, Any]) -> dict[str, Any]:
    return {"resident_id": doc["resident_id"], "participation_id": doc["_id"],
            "programme_id": doc["programme_id"], "phase": doc["phase"]}


def set_status(doc: dict[str, Any], wanted: str, by: str) -> None:
    before = doc["status"]
    doc["status"] = transition(before, wanted, doc["_id"])
    doc["history"].append({"from": before, "to": wanted, "by": by,
                           "at": utcnow().isoformat()})


async def complete(uow: UnitOfWork, doc: dict[str, Any], by: str,
                   placement_id: str | None) -> None:
    set_status(doc, "completed", by)
    doc["placement_id"], doc["ended_at"] = placement_id, utcnow()  # retention runs from then
    uow.put(store.PARTICIPATIONS, doc)
    uow.emit(ParticipantCompleted(**ids(doc), placement_id=placement_id))
    await complete_referrals(uow, doc["resident_id"], placement_id or doc["_id"],
                             "placed" if placement_id else "programme_completed")


async def drop_out(uow: UnitOfWork, programme: dict[str, Any], doc: dict[str, Any],
                   reason: str, by: str) -> None:
    was = doc["status"]
    set_status(doc, "dropped_out", by)
    doc["reason"], doc["ended_at"] = reason, utcnow()
    uow.put(store.PARTICIPATIONS, doc)
    uow.emit(ParticipantDroppedOut(**ids(doc), reason=reason, was=was))  # type: ignore[arg-type]
    phase = await store.phase(uow, doc["programme_id"], doc["phase"])
    if was == "waitlisted":
        phase["waitlisted"] -= 1
        uow.put(store.PHASES, phase)
    else:
        await free_seat(uow, programme, phase)


async def free_seat(uow: UnitOfWork, programme: dict[str, Any], phase: dict[str, Any]) -> None:
    phase["taken"] -= 1
    uow.put(store.PHASES, phase)
    await promote_waitlist(uow, programme, phase)


async def promote_waitlist(uow: UnitOfWork, programme: dict[str, Any],
                           phase: dict[str, Any]) -> None:
    """Give free seats to the waitlist in order (not in a closed phase)."""
    if phase["status"] == "closed" or not phase["waitlisted"]:
        return
    waiting = await uow.find(store.PARTICIPATIONS, {
        "programme_id": programme["_id"], "phase": phase["number"], "status": "waitlisted",
        **NOT_STAND_IN})  # an erased resident's place is only counted
    for doc in sorted(waiting, key=lambda d: d["position"]):
        if not has_free_seat(phase):
            break
        resident = await uow.get(store.RESIDENTS, doc["resident_id"]) or {}
        set_status(doc, seated_status(programme, resident), "waitlist")
        doc["position"] = None
        phase["taken"] += 1
        phase["waitlisted"] -= 1
        uow.put(store.PARTICIPATIONS, doc)
        uow.emit(ParticipantPromoted(**ids(doc), status=doc["status"]))
    uow.put(store.PHASES, phase)
