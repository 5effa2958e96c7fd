"""Erasing one resident from counselling (GDPR Art. 17, § 84 SGB X). Notes (free text)
and what housing told about the resident go; sessions, cases and referrals, which the
statistics count, become anonymous stand-ins under fresh ids: site, category, topic,
state and dates cut to the month, never the resident, counsellor, operator's ids or text."""

from __future__ import annotations

from typing import Any

from counselling import store
from im_runtime import UnitOfWork
from im_runtime.anonymous import month, replace
from im_runtime.spec import Erased


def session(doc: dict[str, Any]) -> dict[str, Any]:
    return {"site_id": doc["site_id"], "category": doc["category"],
            "held_on": month(doc["held_on"]), "interpreter": bool(doc["interpreter"]),
            "case_closed_on": month(doc.get("case_closed_on"))}


def case(doc: dict[str, Any]) -> dict[str, Any]:
    return {"site_id": doc["site_id"], "open": doc["open"],
            "closed_on": month(doc["closed_on"])}


def referral(doc: dict[str, Any]) -> dict[str, Any]:
    return {"topic": doc["topic"], "owner": doc["owner"], "state": doc["state"],
            "requested_on": month(doc["requested_on"]),
            "case_closed_on": month(doc.get("case_closed_on"))}


# collection -> the stand-in it keeps (None: removed outright)
KEEP = {store.SESSIONS: session, store.CASES: case, store.REFERRALS: referral,
        store.NOTES: None}


async def erase(resident_id: str, uow: UnitOfWork) -> Erased:
    done = Erased()
    for collection, keep in KEEP.items():
        for doc in await uow.find(collection, {"resident_id": resident_id}):
            await replace(uow, collection, doc, keep(doc) if keep else None, done)
    if await uow.get(store.RESIDENTS, resident_id) is not None:
        await uow.delete(store.RESIDENTS, resident_id)
        done.count(store.RESIDENTS)
    return done
