"""Erasing one resident from employment (GDPR Art. 17, § 84 SGB X). Their projection,
participations, coaching, needs and placements go; where the programme statistics count
them, an anonymous stand-in under a fresh id keeps the count: programme, phase, state and
coarse dates, no resident id, birth data or free text."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from employment import store
from employment.domain import OPEN
from im_runtime.anonymous import StandIn, day, month, stand_ins


def participation(doc: Mapping[str, Any], person: str) -> dict[str, Any]:
    return {"resident_id": person, "programme_id": doc["programme_id"], "phase": doc["phase"],
            "status": doc["status"], "ended_at": day(doc.get("ended_at"))}


def placement(doc: Mapping[str, Any], person: str) -> dict[str, Any]:
    return {"programme_id": doc["programme_id"], "phase": doc["phase"],
            "recorded_at": day(doc.get("recorded_at"))}


def coaching(doc: Mapping[str, Any], person: str) -> dict[str, Any]:
    return {"on": month(doc.get("on"))}  # the summary is free text


def need(doc: Mapping[str, Any], person: str) -> dict[str, Any] | None:
    """Only open needs are counted."""
    if not doc["open"]:
        return None
    return {"resident_id": person, "open": True, "requested_on": month(doc.get("requested_on"))}


erase = stand_ins(
    StandIn(store.PARTICIPATIONS, participation, counted=lambda d: d["status"] in OPEN),
    StandIn(store.PLACEMENTS, placement),
    StandIn(store.COACHING, coaching),
    StandIn(store.NEEDS, need, counted=lambda d: bool(d["open"])),
    residents=store.RESIDENTS)
