"""A case per resident and operator: sessions by category and the open follow-ups.
Housing's report that the resident left the operator's shelters closes it. The case's
records (sessions, notes, referrals) keep the date it closed: their retention runs from
then."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from counselling import store
from im_runtime import UnitOfWork

RECORDS = (store.SESSIONS, store.NOTES, store.REFERRALS)


async def case(uow: UnitOfWork, operator_id: str, resident_id: str,
               site_id: str) -> dict[str, Any]:
    found = await uow.get(store.CASES, store.key(operator_id, resident_id))
    if found is not None:
        return found
    # A record arriving after housing reported the resident gone from this operator's
    # shelters starts a closed case, as the other order ends in one (later facts win;
    # a later placement with the operator reopens it).
    left = await _left_on(uow, operator_id, resident_id)
    return {"_id": store.key(operator_id, resident_id), "operator_id": operator_id,
            "resident_id": resident_id, "site_id": site_id, "open": left is None,
            "closed_on": left, "sessions": {}, "follow_ups": []}


async def _left_on(uow: UnitOfWork, operator_id: str, resident_id: str) -> str | None:
    """The day housing last reported the resident somewhere other than with this
    operator (None while they are with it, or nothing is known)."""
    known = await uow.get(store.RESIDENTS, resident_id)
    if known is None or known.get("at") is None or known.get("operator_id") == operator_id:
        return None
    return datetime.fromtimestamp(known["at"][0], UTC).date().isoformat()


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
    if doc is not None and doc["open"]:
        doc.update(open=False, closed_on=on, follow_ups=[])
        uow.put(store.CASES, doc)
    # Notes may exist without a case (no session yet): they close with the stay.
    await stamp(uow, operator_id, resident_id, doc["closed_on"] if doc else on)


async def reopen(uow: UnitOfWork, operator_id: str, resident_id: str, *,
                 known: bool = True) -> None:
    """The resident is with the operator (again). `known`: whether counselling knew the
    resident before; records of one it never knew were stamped by nothing."""
    doc = await uow.get(store.CASES, store.key(operator_id, resident_id))
    if doc is not None and doc["open"]:
        return  # an open case's records carry no closed stamp: closing sets, reopening clears
    if doc is not None:
        doc.update(open=True, closed_on=None)
        uow.put(store.CASES, doc)
    elif not known:
        return  # no case and no stamp: each query below would find nothing
    await stamp(uow, operator_id, resident_id, None)


async def closed_on(uow: UnitOfWork, operator_id: str, resident_id: str) -> str | None:
    """When the operator's case of the resident closed (None while it is open)."""
    doc = await uow.get(store.CASES, store.key(operator_id, resident_id))
    if doc is None:  # no case yet: closed if housing reported the resident gone
        return await _left_on(uow, operator_id, resident_id)
    return None if doc["open"] else doc["closed_on"]  # type: ignore[no-any-return]


async def stamp(uow: UnitOfWork, operator_id: str, resident_id: str, on: str | None) -> None:
    """Set (or, reopened, clear) `case_closed_on` on the case's records that differ."""
    differ = {"$ne": None} if on is None else None
    for collection in RECORDS:
        for doc in await uow.find(collection, {"operator_id": operator_id,
                                               "resident_id": resident_id,
                                               "case_closed_on": differ}):
            doc["case_closed_on"] = on
            uow.put(collection, doc)
