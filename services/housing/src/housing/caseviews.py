"""Reading move-out cases: one in full (criteria, offers, viewings, moving help, its
history) and the worklist of cases by site and stage, the longest waiting first.
Answered from memory; a social worker reads only the cases of her sites."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from contracts import Actor
from contracts.housing_commands import (
    CaseCriteria,
    CaseDetail,
    CaseOffer,
    CasePage,
    CaseStep,
    CaseSummary,
    CaseViewing,
    GetMoveOutCase,
    ListMoveOutCases,
)
from housing import store
from housing.scope import site_filter
from im_runtime import UnitOfWork
from im_runtime.access import STAFF, require_role, require_site


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


async def name_of(uow: UnitOfWork, resident_id: str) -> str | None:
    doc = await uow.get(store.RESIDENTS, resident_id)
    if doc is None or doc.get("anonymised"):
        return None
    return f"{doc['given_name']} {doc['family_name']}"


async def get_move_out_case(cmd: GetMoveOutCase, uow: UnitOfWork) -> CaseDetail:
    require_role(cmd.actor, STAFF, "read move-out cases")
    case = await store.case(uow, cmd.case_id)
    require_site(cmd.actor, case.get("site_id"), "read this case")
    crit = case.get("criteria")
    return CaseDetail(
        case_id=case["_id"], household_id=case["household_id"],
        resident_id=case["applicant_id"], name=await name_of(uow, case["applicant_id"]),
        site_id=case.get("site_id"), stage=case["stage"], opened_at=_time(case.get("opened_at")),
        since=_time(case.get("since")), criteria=CaseCriteria(**crit) if crit else None,
        offers=[CaseOffer(**{**o, "available_from": date.fromisoformat(o["available_from"])})
                for o in case["offers"]],
        viewings=[CaseViewing(offer_id=v["offer_id"], on=date.fromisoformat(v["on"]),
                              outcome=v["outcome"]) for v in case["viewings"]],
        help=dict(case["help"]),
        history=[CaseStep(from_stage=h["from"], stage=h["to"], reason=h.get("reason"),
                          by=h["by"], at=_time(h.get("at"))) for h in case["history"]])


async def _where(uow: UnitOfWork, actor: Actor, cmd: ListMoveOutCases) -> dict[str, Any]:
    flt: dict[str, Any] = {"open": cmd.open, **store.PEOPLE_ONLY}
    if cmd.stage is not None:
        flt["stage"] = cmd.stage
    sites = await site_filter(uow, actor, cmd.site_id, cmd.district, "list its move-out cases")
    if sites is not None:
        flt["site_id"] = sites
    return flt


async def list_move_out_cases(cmd: ListMoveOutCases, uow: UnitOfWork) -> CasePage:
    require_role(cmd.actor, STAFF, "list move-out cases")
    flt = await _where(uow, cmd.actor, cmd)
    docs = await uow.find(store.CASES, flt, sort=[("since", 1), ("_id", 1)], skip=cmd.offset,
                          limit=cmd.limit)
    items = [CaseSummary(case_id=d["_id"], household_id=d["household_id"],
                         resident_id=d["applicant_id"], name=await name_of(uow, d["applicant_id"]),
                         site_id=d.get("site_id"), stage=d["stage"],
                         opened_at=_time(d.get("opened_at")), since=_time(d.get("since")),
                         offers=len(d["offers"]), viewings=len(d["viewings"])) for d in docs]
    return CasePage(items=items, total=await uow.count(store.CASES, flt), offset=cmd.offset,
                    limit=cmd.limit)
