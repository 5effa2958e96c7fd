"""A resident's access export from housing (Art. 15 GDPR): the runtime's default (their
registry record and what names them as `resident_id`) plus the household they belong to,
with its members named, and that household's move-out cases, which are kept by household
and name the person as applicant or in a referral."""

from __future__ import annotations

from typing import Any

from housing import store
from im_runtime import UnitOfWork
from im_runtime.export import documents_about


async def export(resident_id: str, uow: UnitOfWork) -> dict[str, list[dict[str, Any]]]:
    out = await documents_about(resident_id, uow)
    households = await uow.find(store.HOUSEHOLDS, {"member_ids": resident_id})
    shown = []
    for hh in sorted(households, key=lambda d: str(d["_id"])):
        people = await store.members(uow, hh)
        shown.append({**hh, "members": [
            {"resident_id": p["_id"], "given_name": p.get("given_name"),
             "family_name": p.get("family_name")} for p in people]})
    out[store.HOUSEHOLDS] = shown
    cases = {d["_id"]: d for d in out.get(store.CASES, [])}
    for hh in households:
        for case in await uow.find(store.CASES, {"household_id": hh["_id"]}):
            cases.setdefault(case["_id"], case)
    out[store.CASES] = [cases[k] for k in sorted(cases, key=str)]
    return out
