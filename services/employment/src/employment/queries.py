"""Employment's sections of the scatter-gather views."""

from __future__ import annotations

from collections import Counter
from typing import Any

from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from employment import store
from employment.domain import OPEN, holds_course
from im_runtime import UnitOfWork

STATES = ("waitlisted", "registered", "waiting_for_language_course", "active", "completed",
          "dropped_out")


def _participation(doc: dict[str, Any]) -> dict[str, Any]:
    return {"participation_id": doc["_id"], "programme_id": doc["programme_id"],
            "phase": doc["phase"], "state": doc["status"], "flags": doc.get("flags", []),
            "position": doc.get("position"), "reason": doc.get("reason"),
            "placement_id": doc.get("placement_id")}


async def resident_overview(q: GetResidentOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    rid = {"resident_id": q.resident_id}
    participations = await uow.find(store.PARTICIPATIONS, rid, sort=[("_id", 1)])
    coaching = await uow.find(store.COACHING, rid, sort=[("on", 1)])
    needs = await uow.find(store.NEEDS, rid)
    placements = await uow.find(store.PLACEMENTS, rid, sort=[("starts", 1)])
    if not (participations or coaching or needs or placements):
        return None
    resident = await uow.get(store.RESIDENTS, q.resident_id) or {}
    return {
        "participations": [_participation(p) for p in participations],
        "coaching": [{"coaching_id": c["_id"], "topic": c["topic"], "on": c["on"],
                      "need_id": c.get("need_id")} for c in coaching],
        "coaching_needs": [{"need_id": n["_id"], "open": n["open"],
                            "referral_id": n.get("referral_id")} for n in needs],
        "placements": [{"placement_id": p["_id"], "participation_id": p["participation_id"],
                        "kind": p["kind"], "sector": p["sector"], "starts": p["starts"],
                        "hours": p["hours"]} for p in placements],
        "language_course": holds_course(resident),
    }


async def site_overview(q: GetSiteOverview, uow: UnitOfWork) -> dict[str, Any] | None:
    residents = await uow.find(store.RESIDENTS, {"site_id": q.site_id})
    if not residents:
        return None
    ids = [r["_id"] for r in residents]
    found = await uow.find(store.PARTICIPATIONS, {"resident_id": {"$in": ids}})
    current = [p for p in found if p["status"] in OPEN]
    return {
        "participants": len({p["resident_id"] for p in current}),
        "by_state": dict(Counter(p["status"] for p in current)),
        "participations": [{"resident_id": p["resident_id"], **_participation(p)}
                           for p in sorted(current, key=lambda p: p["_id"])
                           if not p.get("anonymised")],  # counted above, never listed
        "open_coaching_needs": await uow.count(store.NEEDS, {"resident_id": {"$in": ids},
                                                             "open": True}),
    }


async def city_stats(q: GetCityStats, uow: UnitOfWork) -> dict[str, Any]:
    programmes = await uow.find(store.PROGRAMMES, sort=[("_id", 1)])
    phases = await uow.find(store.PHASES)
    # Figures from tallies the read model keeps current: nothing is counted per request.
    counts = Counter(await uow.tally(store.PARTICIPATIONS, ("programme_id", "phase", "status")))
    placed = Counter(await uow.tally(store.PLACEMENTS, ("programme_id", "phase")))
    out = []
    for prog in programmes:
        rows = []
        for ph in sorted((p for p in phases if p["programme_id"] == prog["_id"]),
                         key=lambda p: p["number"]):
            n = {s: counts[(prog["_id"], ph["number"], s)] for s in STATES}
            rows.append({"phase": ph["number"], "status": ph["status"],
                         "capacity": ph["capacity"],
                         # registered: holds a seat, not yet active (incl. waiting for a course)
                         "registered": n["registered"] + n["waiting_for_language_course"],
                         "active": n["active"], "completed": n["completed"],
                         "placed": placed[(prog["_id"], ph["number"])],
                         "waiting_for_language_course": n["waiting_for_language_course"],
                         "waitlisted": n["waitlisted"], "dropped_out": n["dropped_out"]})
        out.append({"programme_id": prog["_id"], "name": prog["name"],
                    "providers": prog["providers"], "phases": rows})
    return {"programmes": out,
            "coaching": {"sessions": await uow.count(store.COACHING),
                         "open_needs": await uow.count(store.NEEDS, {"open": True})}}
