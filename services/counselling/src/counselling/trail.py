"""Reading referrals: the worklist of referrals waiting for an answer (by owner, topic,
site and state, the oldest first) and one referral with its trail, each step with who
took it and when. Answered from memory; a social worker reads those of her sites.
Ids, topic and the answers only: the counselling behind a referral never leaves."""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from contracts import Actor
from contracts.counselling import (
    GetReferral,
    ListReferrals,
    ReferralItem,
    ReferralPage,
    ReferralStep,
    ReferralTrail,
)
from counselling import store
from im_runtime import UnitOfWork
from im_runtime.access import STAFF, require_role, require_site

OPEN = ["requested", "accepted"]


def step(doc: dict[str, Any], state: str, by: str, **said: str | None) -> None:
    """Keep a step on the referral's trail: who, when (epoch seconds) and what they said
    (a reason, a reference, an outcome)."""
    doc.setdefault("trail", []).append(
        {"state": state, "by": by, "at": time.time(),
         **{k: said.get(k) for k in ("reason", "reference", "outcome")}})


def _time(epoch: float | None) -> datetime | None:
    return datetime.fromtimestamp(epoch, UTC) if epoch else None


def item(doc: dict[str, Any]) -> ReferralItem:
    return ReferralItem(referral_id=doc["referral_id"], resident_id=doc["resident_id"],
                        operator_id=doc["operator_id"], site_id=doc["site_id"],
                        topic=doc["topic"], owner=doc["owner"], state=doc["state"],
                        requested_on=date.fromisoformat(doc["requested_on"]),
                        overdue=bool(doc.get("overdue")), became=doc.get("became"))


async def _sites(uow: UnitOfWork, actor: Actor, cmd: ListReferrals) -> Any:
    """The site condition: one site, a district's sites, a social worker's own at most."""
    if cmd.site_id is not None:
        require_site(actor, cmd.site_id, "list its referrals")
        wanted = {cmd.site_id}
    elif actor.role == "social_worker":
        wanted = set(actor.sites)
    else:
        wanted = None
    if cmd.district is not None:  # sites known before districts were kept have none
        there = {s["_id"] for s in await uow.find(store.SITES, {"district": cmd.district})}
        wanted = there if wanted is None else wanted & there
    return None if wanted is None else {"$in": sorted(wanted)}


async def _where(uow: UnitOfWork, actor: Actor, cmd: ListReferrals) -> dict[str, Any]:
    flt: dict[str, Any] = {"state": cmd.state} if cmd.state else {"state": {"$in": OPEN}}
    for name in ("owner", "topic", "overdue"):
        if getattr(cmd, name) is not None:
            flt[name] = getattr(cmd, name)
    sites = await _sites(uow, actor, cmd)
    if sites is not None:
        flt["site_id"] = sites
    return flt


async def list_referrals(cmd: ListReferrals, uow: UnitOfWork) -> ReferralPage:
    require_role(cmd.actor, STAFF, "list referrals")
    flt = await _where(uow, cmd.actor, cmd)
    docs = await uow.find(store.REFERRALS, flt, sort=[("requested_at", 1), ("_id", 1)],
                          skip=cmd.offset, limit=cmd.limit)
    return ReferralPage(items=[item(d) for d in docs],
                        total=await uow.count(store.REFERRALS, flt), offset=cmd.offset,
                        limit=cmd.limit)


async def get_referral(cmd: GetReferral, uow: UnitOfWork) -> ReferralTrail:
    require_role(cmd.actor, STAFF, "read referrals")
    doc = await store.referral_by_id(uow, cmd.referral_id)
    require_site(cmd.actor, doc["site_id"], "read this referral")
    requested = datetime.fromtimestamp(doc["requested_at"], UTC)
    return ReferralTrail(
        referral=item(doc), reason=doc.get("reason"), reference=doc.get("reference"),
        outcome=doc.get("outcome"), requested_at=requested,
        trail=[ReferralStep(state=s["state"], by=s["by"], at=_time(s.get("at")),
                            reason=s.get("reason"),
                            reference=s.get("reference"), outcome=s.get("outcome"))
               for s in doc.get("trail", [])])
