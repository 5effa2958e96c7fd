"""Housing's sections of the scatter-gather views."""

from __future__ import annotations

from typing import Any

from contracts import Actor
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from housing import store
from im_runtime import UnitOfWork


def may_see_personal(actor: Actor, site: dict[str, Any] | None) -> bool:
    """The same rule as `get_resident`: the city, social workers of the resident's site,
    and the operator of the resident's shelter."""
    if actor.role in ("city_admin", "system"):
        return True
    if actor.role == "social_worker":
        return site is not None and site["_id"] in actor.sites
    if actor.role == "operator":
        return site is not None and site.get("operator_id") == actor.operator
    return False


async def resident_overview(q: GetResidentOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    doc = await uow.get(store.RESIDENTS, q.resident_id)
    if doc is None or doc.get("anonymised"):
        return None
    hh = await uow.get(store.HOUSEHOLDS, doc["household_id"]) or {}
    case = await uow.get(store.CASES, hh["case_id"]) if hh.get("case_id") else None
    site = await uow.get(store.SITES, doc["site_id"]) if doc.get("site_id") else None
    out: dict[str, Any] = {
        "resident_id": doc["_id"], "household_id": doc["household_id"],
        "household_size": len(hh.get("member_ids", [])),
        "residence_status": doc["residence_status"], "languages": doc["languages"],
        "site": {"site_id": site["_id"], "name": site["name"], "kind": site["kind"],
                 "operator_id": site.get("operator_id")} if site else None,
        "placements": doc.get("placements", []),
        "move_out_case": {"case_id": case["_id"], "stage": case["stage"],
                          "offers": len(case["offers"]), "viewings": len(case["viewings"]),
                          "help": case["help"]} if case else None,
    }
    if may_see_personal(q.actor, site):
        out["personal"] = {"given_name": doc["given_name"], "family_name": doc["family_name"],
                           "birth_year": doc["birth_year"], "phone": doc.get("phone"),
                           "arrival_date": doc["arrival_date"]}
    return out


async def site_overview(q: GetSiteOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    site = await uow.get(store.SITES, q.site_id)
    if site is None:
        return None
    staff = await uow.find(store.STAFF, {"site_ids": q.site_id})
    return {
        "site_id": site["_id"], "name": site["name"], "kind": site["kind"],
        "operator_id": site.get("operator_id"), "district": site["district"],
        "group": site.get("group"), "capacity": site["capacity"],
        "occupancy": site["occupancy"], "free": site["capacity"] - site["occupancy"],
        "staff": [{"staff_id": s["_id"], "name": s["name"]} for s in staff],
        "open_move_out_cases": await uow.count(store.CASES, {"site_id": q.site_id, "open": True}),
        "emergency_overrides": await uow.count(store.OVERRIDES, {"site_id": q.site_id}),
    }


async def city_stats(q: GetCityStats, uow: UnitOfWork) -> dict[str, Any]:
    sites = await uow.find(store.SITES)
    shelters = [s for s in sites if s["kind"] == "shelter"]
    apartments = [s for s in sites if s["kind"] == "apartment"]
    return {
        "residents": await uow.count(store.RESIDENTS),
        "placed": sum(s["occupancy"] for s in sites),
        "shelters": len(shelters), "apartments": len(apartments),
        "capacity": sum(s["capacity"] for s in sites),
        "occupancy": {"shelters": sum(s["occupancy"] for s in shelters),
                      "apartments": sum(s["occupancy"] for s in apartments)},
        "staff": await uow.count(store.STAFF),
        "move_outs": {"open": await uow.count(store.CASES, {"open": True}),
                      "completed": await uow.count(store.CASES, {"stage": "moved_out"}),
                      "cancelled": await uow.count(store.CASES, {"stage": "cancelled"})},
    }
