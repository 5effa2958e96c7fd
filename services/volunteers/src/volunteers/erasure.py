"""Erasing one resident from volunteers (GDPR Art. 17, § 84 SGB X). The volunteer is not
the one erased: their registration and load stay. Each match with the resident becomes
an anonymous stand-in under a fresh id (volunteer, offer, state, the day it ended), so the
figures and the volunteer's capacity stay right and an open one can still be ended; the
resident's open requests are kept as counts only, everything else about them goes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from im_runtime.anonymous import StandIn, day, month, stand_ins
from volunteers import store
from volunteers.domain import OPEN_STATES


def match(doc: Mapping[str, Any], person: str) -> dict[str, Any]:
    """Outcome, rating and feedback are about the resident: gone."""
    return {"volunteer_id": doc["volunteer_id"], "resident_id": person, "offer": doc["offer"],
            "state": doc["state"], "ended_at": day(doc.get("ended_at"))}


def request(doc: Mapping[str, Any], person: str) -> dict[str, Any] | None:
    """Only open requests are counted; a met one is told by its match."""
    if not doc["open"]:
        return None
    return {"resident_id": person, "open": True,
            "requested_on": month(doc["requested_on"])}


erase = stand_ins(
    StandIn(store.MATCHES, match, counted=lambda d: d["state"] in OPEN_STATES),
    StandIn(store.REQUESTS, request, counted=lambda d: bool(d["open"])),
    residents=store.RESIDENTS)
