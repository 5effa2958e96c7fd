"""A case per resident and operator: sessions by category and the open follow-ups.
Housing's report that the resident left the operator's shelters closes it."""

from __future__ import annotations

from typing import Any

from counselling import store
from im_runtime import UnitOfWork


async def case(uow: UnitOfWork, operator_id: str, resident_id: str,
               site_id: str) -> dict[str, Any]:
    return await uow.get(store.CASES, store.key(operator_id, resident_id)) or {
        "_id": store.key(operator_id, resident_id), "operator_id": operator_id,
        "resident_id": resident_id, "site_id": site_id, "open": True, "closed_on": None,
        "sessions": {}, "follow_ups": []}


def add_session(doc: dict[str, Any], session: dict[str, Any]) -> None:
    """Count the session; it settles earlier follow-ups of its category, and may set one."""
    cat = session["category"]
    doc["sessions"][cat] = doc["sessions"].get(cat, 0) + 1
    doc["site_id"] = session["site_id"]
    doc["follow_ups"] = [f for f in doc["follow_ups"]
                         if not (f["category"] == cat and f["set_on"] < session["held_on"])]
    if session.get("follow_up_on") and doc["open"]:
        doc["follow_ups"].append({"session_id": session["session_id"], "category": cat,
                                  "set_on": session["held_on"], "due": session["follow_up_on"]})


async def close(uow: UnitOfWork, operator_id: str, resident_id: str, on: str) -> None:
    doc = await uow.get(store.CASES, store.key(operator_id, resident_id))
    if doc is None or not doc["open"]:
        return
    doc.update(open=False, closed_on=on, follow_ups=[])
    uow.put(store.CASES, doc)


async def reopen(uow: UnitOfWork, operator_id: str, resident_id: str) -> None:
    doc = await uow.get(store.CASES, store.key(operator_id, resident_id))
    if doc is None or doc["open"]:
        return
    doc.update(open=True, closed_on=None)
    uow.put(store.CASES, doc)
