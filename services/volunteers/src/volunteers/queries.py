"""Volunteers' sections of the scatter-gather views."""

from __future__ import annotations

from collections import Counter
from typing import Any

from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from im_runtime import UnitOfWork
from volunteers import store
from volunteers.domain import OPEN_STATES


def _match(doc: dict[str, Any]) -> dict[str, Any]:
    return {"match_id": doc["_id"], "volunteer_id": doc["volunteer_id"], "offer": doc["offer"],
            "state": doc["state"], "outcome": doc.get("outcome"), "rating": doc.get("rating")}


async def resident_overview(q: GetResidentOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    rid = {"resident_id": q.resident_id}
    matches = await uow.find(store.MATCHES, rid, sort=[("_id", 1)])
    requests = await uow.find(store.REQUESTS, {**rid, "open": True}, sort=[("_id", 1)])
    if not (matches or requests):
        return None
    return {"matches": [_match(m) for m in matches],
            "open_requests": [{"request_id": r["_id"], "referral_id": r.get("referral_id"),
                               "requested_on": r.get("requested_on")} for r in requests]}


async def site_overview(q: GetSiteOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    residents = await uow.find(store.RESIDENTS, {"site_id": q.site_id})
    site = await uow.get(store.SITES, q.site_id)
    if not residents and site is None:
        return None
    ids = [r["_id"] for r in residents]
    matches = await uow.find(store.MATCHES, {"resident_id": {"$in": ids}})
    current = [m for m in matches if m["state"] in OPEN_STATES]
    district = site.get("district") if site else None
    return {
        "district": district,
        "matches_by_state": dict(Counter(m["state"] for m in current)),
        "residents_supported": len({m["resident_id"] for m in current}),
        "open_requests": await uow.count(store.REQUESTS, {"resident_id": {"$in": ids},
                                                          "open": True}),
        "volunteers_in_district": await uow.count(store.VOLUNTEERS, {"districts": district})
        if district is not None else 0,
    }


async def city_stats(q: GetCityStats, uow: UnitOfWork) -> dict[str, Any]:
    volunteers = await uow.find(store.VOLUNTEERS)
    return {
        "volunteers": len(volunteers),
        "capacity": sum(v["capacity"] for v in volunteers),
        "free_capacity": sum(max(v["capacity"] - v["load"], 0) for v in volunteers),
        "offers": dict(Counter(o for v in volunteers for o in v["offers"])),
        "matches_by_state": await uow.tally(store.MATCHES, "state"),
        "open_requests": await uow.count(store.REQUESTS, {"open": True}),
    }
