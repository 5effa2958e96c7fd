"""Move-out management per household: search criteria, offers, viewings, moving help,
and a case that walks a validated path from opened to moved out."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from contracts import Actor, utcnow
from contracts.housing import (
    SERVICE,
    MoveOutCaseAdvanced,
    MoveOutCaseClosed,
    MoveOutCaseOpened,
    OfferRecorded,
    ViewingRecorded,
)
from contracts.housing_commands import (
    AdvanceMoveOutCase,
    CaseView,
    OpenMoveOutCase,
    RecordOffer,
    RecordViewing,
    SetSearchCriteria,
    TickMovingHelp,
)
from contracts.referrals import ReferralCompleted
from housing import store
from housing.domain import TERMINAL, next_stage
from housing.placements import end_placement
from im_runtime import Conflict, NotFound, UnitOfWork
from im_runtime.access import STAFF, require_role, require_site

HELP_ITEMS = ("furniture", "address_registration", "utilities", "job_centre")


def view(case: dict[str, Any]) -> CaseView:
    return CaseView(case_id=case["_id"], household_id=case["household_id"], stage=case["stage"],
                    offer_id=case["offers"][-1]["offer_id"] if case["offers"] else None)


async def open_case(uow: UnitOfWork, actor: Actor, household_id: str,
                    referral: dict[str, str] | None = None) -> dict[str, Any]:
    hh = await store.household(uow, household_id)
    require_site(actor, hh.get("site_id"), "open a move-out case for this household")
    # The last case may be gone by retention; an open one is what matters.
    current = await uow.get(store.CASES, hh["case_id"]) if hh.get("case_id") else None
    if current is not None:
        if current["stage"] not in TERMINAL:  # one open case per household: link to it
            if referral:
                current["referrals"].append(referral)
                uow.put(store.CASES, current)
            return current
    now = utcnow().isoformat()  # a string: kept as is by every store, sorts as time
    case = {"_id": f"c-{uuid.uuid4().hex[:12]}", "household_id": household_id,
            "applicant_id": hh["member_ids"][0], "stage": "opened", "paused_from": None,
            "opened_at": now, "since": now,
            "open": True, "site_id": hh.get("site_id"),
            "referrals": [referral] if referral else [],
            "criteria": None, "offers": [], "viewings": [],
            "help": {item: False for item in HELP_ITEMS}, "history": []}
    hh["case_id"] = case["_id"]
    uow.put(store.HOUSEHOLDS, hh)
    uow.put(store.CASES, case)
    uow.emit(MoveOutCaseOpened(resident_id=case["applicant_id"], case_id=case["_id"],
                               household_id=household_id, site_id=case["site_id"],
                               referral_id=referral["referral_id"] if referral else None))
    return case


async def open_move_out_case(cmd: OpenMoveOutCase, uow: UnitOfWork) -> CaseView:
    require_role(cmd.actor, STAFF, "open move-out cases")
    return view(await open_case(uow, cmd.actor, cmd.household_id))


async def _open_case(uow: UnitOfWork, actor: Actor, case_id: str) -> dict[str, Any]:
    require_role(actor, STAFF, "work on move-out cases")
    case = await store.case(uow, case_id)
    require_site(actor, case.get("site_id"), "work on this case")
    if case["stage"] in TERMINAL:
        raise Conflict(f"case {case_id} is {case['stage']}; it cannot change any more",
                       details={"case_id": case_id, "stage": case["stage"]})
    return case


def _advance(uow: UnitOfWork, case: dict[str, Any], stage: str, reason: str | None,
             by: str) -> None:
    before = case["stage"]
    case["stage"] = next_stage(before, stage, case.get("paused_from"), reason)
    case["paused_from"] = before if stage == "paused" else None
    case["since"] = utcnow().isoformat()  # how long a case waits in a stage (worklists)
    case["history"].append({"from": before, "to": stage, "reason": reason, "by": by,
                            "at": case["since"]})
    uow.emit(MoveOutCaseAdvanced(resident_id=case["applicant_id"], case_id=case["_id"],
                                 household_id=case["household_id"], from_stage=before,
                                 stage=stage, reason=reason))  # type: ignore[arg-type]


async def advance(cmd: AdvanceMoveOutCase, uow: UnitOfWork) -> CaseView:
    case = await _open_case(uow, cmd.actor, cmd.case_id)
    _advance(uow, case, cmd.stage, cmd.reason, cmd.actor.subject)
    if case["stage"] in TERMINAL:
        case["open"], case["closed_at"] = False, utcnow()  # retention counts from it
        if case["stage"] == "moved_out":
            hh = await uow.get(store.HOUSEHOLDS, case["household_id"])
            if hh and hh.get("site_id"):  # it may have moved out already, or be gone
                await end_placement(uow, cmd.actor, hh, "own_flat", date.today())
        uow.emit(MoveOutCaseClosed(resident_id=case["applicant_id"], case_id=case["_id"],
                                   household_id=case["household_id"], outcome=case["stage"],
                                   reason=cmd.reason))
        for ref in case["referrals"]:
            uow.emit(ReferralCompleted(
                referral_id=ref["referral_id"], resident_id=ref["resident_id"],
                operator_id=ref["operator_id"], topic="housing_search", service=SERVICE,
                became="case", reference=case["_id"], outcome=case["stage"]))
    uow.put(store.CASES, case)
    return view(case)


async def set_criteria(cmd: SetSearchCriteria, uow: UnitOfWork) -> CaseView:
    case = await _open_case(uow, cmd.actor, cmd.case_id)
    case["criteria"] = {"household_size": cmd.household_size, "rent_ceiling": cmd.rent_ceiling,
                        "districts": list(cmd.districts), "accessible": cmd.accessible,
                        "wbs": cmd.wbs}
    if case["stage"] == "opened":
        _advance(uow, case, "searching", None, cmd.actor.subject)
    uow.put(store.CASES, case)
    return view(case)


async def record_offer(cmd: RecordOffer, uow: UnitOfWork) -> CaseView:
    case = await _open_case(uow, cmd.actor, cmd.case_id)
    if case["stage"] not in ("searching", "offer_received", "viewing"):
        raise Conflict(f"offers are recorded while searching; the case is {case['stage']}",
                       details={"case_id": cmd.case_id, "stage": case["stage"]})
    offer_id = f"o-{uuid.uuid4().hex[:10]}"
    case["offers"].append({"offer_id": offer_id, "landlord": cmd.landlord,
                           "address": cmd.address, "district": cmd.district, "rooms": cmd.rooms,
                           "rent": cmd.rent, "available_from": cmd.available_from.isoformat()})
    uow.emit(OfferRecorded(resident_id=case["applicant_id"], case_id=case["_id"],
                           offer_id=offer_id, rooms=cmd.rooms, rent=cmd.rent,
                           district=cmd.district))
    if case["stage"] == "searching":
        _advance(uow, case, "offer_received", None, cmd.actor.subject)
    uow.put(store.CASES, case)
    return view(case)


async def record_viewing(cmd: RecordViewing, uow: UnitOfWork) -> CaseView:
    case = await _open_case(uow, cmd.actor, cmd.case_id)
    if not any(o["offer_id"] == cmd.offer_id for o in case["offers"]):
        raise NotFound(f"case {cmd.case_id} has no offer {cmd.offer_id!r}",
                       details={"case_id": cmd.case_id, "offer_id": cmd.offer_id})
    case["viewings"].append({"offer_id": cmd.offer_id, "on": cmd.on.isoformat(),
                             "outcome": cmd.outcome})
    uow.emit(ViewingRecorded(resident_id=case["applicant_id"], case_id=case["_id"],
                             offer_id=cmd.offer_id, on=cmd.on, outcome=cmd.outcome))
    if case["stage"] == "offer_received":
        _advance(uow, case, "viewing", None, cmd.actor.subject)
    uow.put(store.CASES, case)
    return view(case)


async def tick_help(cmd: TickMovingHelp, uow: UnitOfWork) -> CaseView:
    case = await _open_case(uow, cmd.actor, cmd.case_id)
    case["help"][cmd.item] = cmd.done
    uow.put(store.CASES, case)
    return view(case)
