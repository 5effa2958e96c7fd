"""Volunteers' rules, free of I/O: who fits a resident, which offer, capacity, and the
match's way from proposed to ended."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from im_runtime.errors import Conflict

# A background check (erweitertes Führungszeugnis) counts for five years.
CHECK_VALID = timedelta(days=5 * 365)
OPEN_STATES = frozenset({"proposed", "agreed", "active"})
TRANSITIONS: dict[str, frozenset[str]] = {
    "proposed": frozenset({"agreed", "ended"}),
    "agreed": frozenset({"active", "ended"}),
    "active": frozenset({"ended"}),
    "ended": frozenset(),
}
# What a referral gets when the volunteer offers several things.
OFFER_ORDER = ("language_tandem", "accompaniment", "mentoring", "homework_help", "moving_help")


def transition(current: str, wanted: str, match_id: str) -> str:
    if wanted not in TRANSITIONS[current]:
        raise Conflict(f"match {match_id} is {current}; it cannot become {wanted}",
                       details={"match_id": match_id, "state": current, "wanted": wanted})
    return wanted


def checked(volunteer: dict[str, Any], today: date) -> bool:
    on = volunteer.get("background_check_on")
    return on is not None and date.fromisoformat(on) + CHECK_VALID >= today


def free(volunteer: dict[str, Any]) -> int:
    return int(volunteer["capacity"]) - int(volunteer["load"])


def fits(volunteer: dict[str, Any], languages: list[str], district: str | None,
         today: date) -> bool:
    """Checked, with room, in the resident's district and sharing a language."""
    return (checked(volunteer, today) and free(volunteer) > 0
            and district is not None and district in volunteer["districts"]
            and bool(set(languages) & set(volunteer["languages"])))


def best(volunteers: list[dict[str, Any]], languages: list[str], district: str | None,
         today: date) -> dict[str, Any] | None:
    """The fitting volunteer with the most room (then the lowest id, to be repeatable)."""
    fitting = [v for v in volunteers if fits(v, languages, district, today)]
    return min(fitting, key=lambda v: (-free(v), v["_id"]), default=None)


def offer_for(volunteer: dict[str, Any]) -> str:
    return next(o for o in OFFER_ORDER if o in volunteer["offers"])
