"""A programme phase with its participants: the providers' and the city's list to work
from (activate, record a placement, drop out). Read from memory; a social worker sees
the participants of her sites, a provider those of its own programmes."""

from __future__ import annotations

from typing import Any

from contracts.employment_commands import GetPhaseParticipants, PhaseParticipants
from employment import store
from employment.lifecycle import view
from employment.programmes import phase_view
from im_runtime import UnitOfWork
from im_runtime.access import STAFF, require_role
from im_runtime.anonymous import NOT_STAND_IN
from im_runtime.errors import Forbidden

ORDER = {"active": 0, "registered": 1, "waiting_for_language_course": 2, "waitlisted": 3,
         "completed": 4, "dropped_out": 5}


def _rank(doc: dict[str, Any]) -> tuple[int, int, float]:
    return ORDER.get(doc["status"], 9), doc.get("position") or 0, doc.get("registered_at", 0)


async def get_phase_participants(cmd: GetPhaseParticipants,
                                 uow: UnitOfWork) -> PhaseParticipants:
    require_role(cmd.actor, (*STAFF, "provider"), "read a phase's participants")
    programme = await store.programme(uow, cmd.programme_id)
    if cmd.actor.role == "provider" and cmd.actor.provider not in programme["providers"]:
        raise Forbidden(f"provider {cmd.actor.provider} does not run {programme['_id']} and "
                        f"may not read its participants",
                        details={"role": cmd.actor.role, "programme_id": programme["_id"]})
    phase = await store.phase(uow, cmd.programme_id, cmd.phase)
    docs = await uow.find(store.PARTICIPATIONS, {"programme_id": cmd.programme_id,
                                                 "phase": cmd.phase, **NOT_STAND_IN})
    if cmd.actor.role == "social_worker":  # her sites' residents only
        sites = set(cmd.actor.sites)
        docs = [d for d in docs
                if ((await uow.get(store.RESIDENTS, d["resident_id"])) or {}).get("site_id")
                in sites]
    docs.sort(key=_rank)
    return PhaseParticipants(
        programme_id=programme["_id"], name=programme["name"], phase=phase_view(phase),
        items=[view(d) for d in docs[cmd.offset:cmd.offset + cmd.limit]], total=len(docs),
        offset=cmd.offset, limit=cmd.limit)
