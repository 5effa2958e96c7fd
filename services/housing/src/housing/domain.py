"""Housing rules, free of I/O: the move-out state machine and site capacity."""

from __future__ import annotations

from im_runtime.errors import Conflict, DomainError

TERMINAL = frozenset({"moved_out", "cancelled"})

# Forward path of a move-out case; any open stage may also be paused or cancelled.
TRANSITIONS: dict[str, frozenset[str]] = {
    "opened": frozenset({"searching"}),
    "searching": frozenset({"offer_received"}),
    "offer_received": frozenset({"viewing", "searching"}),
    "viewing": frozenset({"lease_signed", "searching", "offer_received"}),
    "lease_signed": frozenset({"moving"}),
    "moving": frozenset({"moved_out"}),
    "paused": frozenset(),
    "moved_out": frozenset(),
    "cancelled": frozenset(),
}
NEEDS_REASON = frozenset({"paused", "cancelled"})


class IllegalTransition(Conflict):
    pass


def next_stage(current: str, wanted: str, paused_from: str | None, reason: str | None) -> str:
    """The stage a case moves to, or an error that says why it cannot."""
    if current in TERMINAL:
        raise IllegalTransition(f"the case is {current}; it cannot change any more",
                                details={"stage": current, "wanted": wanted, "rule": "closed"})
    if wanted in NEEDS_REASON and not reason:
        raise DomainError(f"moving a case to {wanted} needs a reason",
                          details={"stage": current, "wanted": wanted, "rule": "stage_reason"})
    if wanted == "cancelled" or (wanted == "paused" and current != "paused"):
        if wanted == "paused" and current in ("lease_signed", "moving"):
            raise IllegalTransition(f"a case that is {current} cannot be paused",
                                    details={"stage": current, "wanted": wanted,
                                             "rule": "pause_late"})
        return wanted
    if current == "paused":
        if wanted != paused_from:
            raise IllegalTransition(
                f"a paused case resumes at {paused_from}, not {wanted}",
                details={"stage": current, "wanted": wanted, "resumes_at": paused_from or "",
                         "rule": "resume_at"})
        return wanted
    if wanted not in TRANSITIONS[current]:
        allowed = sorted(TRANSITIONS[current] | {"paused", "cancelled"})
        raise IllegalTransition(f"a case cannot go from {current} to {wanted}",
                                details={"stage": current, "wanted": wanted,
                                         "allowed": ",".join(allowed), "rule": "stage_path"})
    return wanted


def check_room(site: dict[str, object], needed: int, override: bool, reason: str | None) -> None:
    """Refuse to over-fill a site unless an emergency override with a reason is given."""
    capacity, occupancy = int(site["capacity"]), int(site["occupancy"])  # type: ignore[call-overload]
    if occupancy + needed <= capacity:
        return
    if not override:
        raise Conflict(
            f"site {site['_id']} is full: {occupancy} of {capacity} places taken, "
            f"{needed} needed; an emergency override needs override_reason",
            details={"site_id": str(site["_id"]), "capacity": str(capacity),
                     "occupancy": str(occupancy), "needed": str(needed), "rule": "site_full"})
    if not reason:
        raise DomainError("an emergency override needs an override_reason",
                          details={"site_id": str(site["_id"]), "rule": "override_reason"})
