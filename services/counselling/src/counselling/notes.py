"""An operator reads back its own case notes about a resident. The notes are free text
that never leaves counselling otherwise: only the operator that wrote them may read them,
and only about a resident it holds a case or notes for. The city, a social worker or
another operator are refused, never shown an empty list that would look like an answer."""

from __future__ import annotations

from datetime import date

from contracts.counselling import CaseNote, CaseNotePage, ListCaseNotes
from counselling import store
from im_runtime import UnitOfWork
from im_runtime.access import require_role
from im_runtime.errors import Forbidden


async def list_case_notes(cmd: ListCaseNotes, uow: UnitOfWork) -> CaseNotePage:
    require_role(cmd.actor, ("operator",), "read counsellors' case notes")
    operator = cmd.actor.operator or ""
    flt = {"resident_id": cmd.resident_id, "operator_id": operator}
    total = await uow.count(store.NOTES, flt)
    if not total and await uow.get(store.CASES, store.key(operator, cmd.resident_id)) is None:
        raise Forbidden(f"operator {operator or cmd.actor.subject} holds no case about "
                        f"resident {cmd.resident_id} and may not read notes about them",
                        details={"resident_id": cmd.resident_id})
    docs = await uow.find(store.NOTES, flt, sort=[("written_on", -1), ("_id", 1)],
                          skip=cmd.offset, limit=cmd.limit)
    return CaseNotePage(
        resident_id=cmd.resident_id, total=total, offset=cmd.offset, limit=cmd.limit,
        items=[CaseNote(note_id=d["_id"].split(":", 1)[1], site_id=d["site_id"],
                        written_on=date.fromisoformat(d["written_on"]),
                        category=d.get("category"), text=d["text"]) for d in docs])
