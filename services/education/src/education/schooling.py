"""Kita and school access for children: requested → place offered → placed or declined."""

from __future__ import annotations

import uuid
from datetime import date, datetime
from typing import Any

from contracts import Actor, utcnow
from contracts.education import (
    SERVICE,
    AccessPlaceOffered,
    AccessRequestDeclined,
    AccessRequestOpened,
    AccessRequestPlaced,
)
from contracts.education_commands import (
    AccessRequestView,
    ConcludeAccess,
    OfferAccessPlace,
    RequestAccess,
)
from contracts.referrals import ReferralCompleted
from education import store
from education.rights import check
from im_runtime import Conflict, DomainError, UnitOfWork
from im_runtime.access import STAFF


def view(doc: dict[str, Any]) -> AccessRequestView:
    return AccessRequestView(
        request_id=doc["_id"], resident_id=doc["resident_id"], parent_id=doc.get("parent_id"),
        kind=doc["kind"], district=doc["district"], state=doc["status"],
        institution=doc.get("institution"),
        starts=date.fromisoformat(doc["starts"]) if doc.get("starts") else None,
        reason=doc.get("reason"), site_id=doc.get("site_id"),
        opened_at=datetime.fromisoformat(doc["opened_at"]) if doc.get("opened_at") else None)


def _about(doc: dict[str, Any]) -> dict[str, Any]:
    # Keyed by the child: the parent's id stays in education's record, never in the event
    # (an erasure of the parent removes messages by their subject, which names the child).
    return {"request_id": doc["_id"], "resident_id": doc["resident_id"], "kind": doc["kind"],
            "district": doc["district"], "site_id": doc.get("site_id"),
            "referral_id": doc.get("referral_id")}


async def open_request(uow: UnitOfWork, actor: Actor, child: str, kind: str, district: str,
                       parent: str | None, referral: dict[str, str] | None = None
                       ) -> dict[str, Any]:
    site = await store.resident_site(uow, child)
    check(actor, STAFF, "request Kita or school places", site_id=site)
    for other in await uow.find(store.ACCESS, {"resident_id": child, "open": True}):
        if other["kind"] == kind:
            raise Conflict(f"resident {child} has an open {kind} request already",
                           details={"resident_id": child, "request_id": other["_id"]})
    doc = {"_id": f"a-{uuid.uuid4().hex[:12]}", "resident_id": child, "parent_id": parent,
           "kind": kind, "district": district, "site_id": site, "status": "open", "open": True,
           "referral_id": referral["referral_id"] if referral else None, "referral": referral,
           "institution": None, "starts": None, "reason": None,
           "opened_at": utcnow().isoformat()}  # a string: the worklist sorts by waiting time
    uow.put(store.ACCESS, doc)
    uow.emit(AccessRequestOpened(**_about(doc)))
    return doc


async def request_access(cmd: RequestAccess, uow: UnitOfWork) -> AccessRequestView:
    return view(await open_request(uow, cmd.actor, cmd.resident_id, cmd.kind, cmd.district,
                                   cmd.parent_id))


async def _load(uow: UnitOfWork, actor: Actor, request_id: str, what: str,
                wanted: str) -> dict[str, Any]:
    doc = await store.access_request(uow, request_id)
    check(actor, STAFF, what, site_id=doc.get("site_id"))
    if doc["status"] != wanted:
        raise Conflict(f"request {request_id} is {doc['status']}, not {wanted}",
                       details={"request_id": request_id, "status": doc["status"]})
    return doc


async def offer_place(cmd: OfferAccessPlace, uow: UnitOfWork) -> AccessRequestView:
    doc = await _load(uow, cmd.actor, cmd.request_id, "record offered places", "open")
    doc |= {"status": "offered", "institution": cmd.institution,
            "starts": cmd.starts.isoformat()}
    uow.put(store.ACCESS, doc)
    uow.emit(AccessPlaceOffered(**_about(doc), institution=cmd.institution, starts=cmd.starts))
    return view(doc)


async def conclude(cmd: ConcludeAccess, uow: UnitOfWork) -> AccessRequestView:
    doc = await _load(uow, cmd.actor, cmd.request_id, "conclude requests", "offered")
    if cmd.outcome == "declined" and not cmd.reason:
        raise DomainError("declining an offered place needs a reason",
                          details={"request_id": cmd.request_id, "field": "reason"})
    doc |= {"status": cmd.outcome, "open": False, "reason": cmd.reason,
            "closed_at": utcnow()}  # retention counts from it
    uow.put(store.ACCESS, doc)
    if cmd.outcome == "placed":
        uow.emit(AccessRequestPlaced(**_about(doc), institution=doc["institution"],
                                     starts=date.fromisoformat(doc["starts"])))
    else:
        uow.emit(AccessRequestDeclined(**_about(doc), reason=cmd.reason or ""))
    if doc.get("referral"):
        uow.emit(ReferralCompleted(
            **doc["referral"], resident_id=doc["resident_id"], topic="kita_school",
            service=SERVICE, became="access_request", reference=doc["_id"],
            outcome=cmd.outcome))
    return view(doc)
