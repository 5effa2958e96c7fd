"""A household arriving together: its members registered and the household placed in one
commit, by the same handlers as one `register_resident` per member and a
`place_household`, so the same checks and events, one round trip instead of many."""

from __future__ import annotations

import uuid

import msgspec

from contracts.housing_commands import (
    HouseholdView,
    PlaceHousehold,
    RegisterHousehold,
    RegisterResident,
)
from housing import store
from housing.placements import place_household
from housing.residents import register_resident
from im_runtime import Conflict, DomainError, UnitOfWork
from im_runtime.access import STAFF, require_role
from im_runtime.privacy import refuse_if_erased


def contended(cmd: RegisterHousehold) -> str:
    """What households arriving at once contend for: their site's places (the site's
    document); one not placed yet, nothing shared."""
    return f"site:{cmd.site_id}" if cmd.site_id is not None else f"command:{cmd.command_id}"


async def register_household(cmd: RegisterHousehold, uow: UnitOfWork) -> HouseholdView:
    require_role(cmd.actor, STAFF, "register residents")
    if cmd.site_id is not None and cmd.on is None:
        raise DomainError("placing a household needs the date it moves in (`on`)")
    hid = cmd.household_id or f"h-{uuid.uuid4().hex[:12]}"
    if await uow.get(store.HOUSEHOLDS, hid) is not None:
        raise Conflict(f"household {hid!r} is already registered", details={"household_id": hid})
    # Each member's checks read their resident and erasure records: one query each for all.
    given = [m.resident_id for m in cmd.members if m.resident_id is not None]
    await refuse_if_erased(uow, *given)
    await uow.prefetch(store.RESIDENTS, given)
    ids = []
    for member in cmd.members:
        record = await register_resident(RegisterResident(
            actor=cmd.actor, command_id=cmd.command_id, household_id=hid,
            **msgspec.structs.asdict(member)), uow, new_household=True)
        ids.append(record.resident_id)
    if cmd.site_id is not None and cmd.on is not None:
        await place_household(PlaceHousehold(actor=cmd.actor, command_id=cmd.command_id,
                                             household_id=hid, site_id=cmd.site_id,
                                             on=cmd.on), uow)
    return HouseholdView(household_id=hid, resident_ids=ids, site_id=cmd.site_id)
