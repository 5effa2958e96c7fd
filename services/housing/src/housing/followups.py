"""The social worker's due follow-ups on move-out cases: what she must do next and since
when. A viewing whose day has come needs its outcome; an offer whose flat is available
and that nobody has viewed needs a viewing; a case that has not moved on for
`STALE_DAYS` needs its next step (a paused case waits on purpose and is left out).
Answered from memory over the open cases of the sites asked for (indexed by site)."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from contracts import utcnow
from contracts.housing_commands import FollowUp, FollowUpPage, ListDueFollowUps
from housing import store
from housing.caseviews import name_of
from housing.scope import site_filter
from im_runtime import UnitOfWork
from im_runtime.access import STAFF, require_role

STALE_DAYS = 21  # three weeks in one stage: time to look at the case again


def due(case: dict[str, Any], today: date) -> tuple[date, list[str], str | None] | None:
    """The earliest day something on the case was due, why, and the offer concerned."""
    found: list[tuple[date, str, str | None]] = []
    latest = {v["offer_id"]: v for v in case["viewings"]}  # a later record answers a pending one
    for v in latest.values():
        if v["outcome"] == "pending" and date.fromisoformat(v["on"]) <= today:
            found.append((date.fromisoformat(v["on"]), "viewing_outcome", v["offer_id"]))
    for o in case["offers"]:
        available = date.fromisoformat(o["available_from"])
        if o["offer_id"] not in latest and available <= today:
            found.append((available, "arrange_viewing", o["offer_id"]))
    since = case.get("since")
    if since and case["stage"] != "paused":
        stale = datetime.fromisoformat(since).date() + timedelta(days=STALE_DAYS)
        if stale <= today:
            found.append((stale, "next_step", None))
    if not found:
        return None
    found.sort(key=lambda f: (f[0], f[1]))
    reasons = list(dict.fromkeys(r for _, r, _ in found))
    return found[0][0], reasons, next((o for _, _, o in found if o), None)


async def list_due_follow_ups(cmd: ListDueFollowUps, uow: UnitOfWork) -> FollowUpPage:
    require_role(cmd.actor, STAFF, "list due follow-ups")
    flt: dict[str, Any] = {"open": True, **store.PEOPLE_ONLY}
    sites = await site_filter(uow, cmd.actor, cmd.site_id, cmd.district,
                              "list its follow-ups")
    if sites is not None:
        flt["site_id"] = sites
    today = cmd.on or utcnow().date()
    hits = [(d, case) for case in await uow.find(store.CASES, flt)
            if (d := due(case, today)) is not None]
    hits.sort(key=lambda h: (h[0][0], h[1]["_id"]))
    items = [FollowUp(case_id=c["_id"], household_id=c["household_id"],
                      resident_id=c["applicant_id"], name=await name_of(uow, c["applicant_id"]),
                      site_id=c.get("site_id"), stage=c["stage"], due_on=on,
                      reasons=reasons, offer_id=offer)  # type: ignore[arg-type]
             for (on, reasons, offer), c in hits[cmd.offset:cmd.offset + cmd.limit]]
    return FollowUpPage(items=items, total=len(hits), offset=cmd.offset, limit=cmd.limit)
