"""The trust boundary's second half (the runtime checks subject operator = source): an
operator records only for the sites it runs and for residents living there. What
counselling knows of sites and residents it learns from housing's events."""

from __future__ import annotations

from typing import Any

from counselling import store
from im_runtime import Reject, UnitOfWork


class SiteNotKnownYet(Exception):
    """Housing's SiteRegistered may still be on its way: retried, then dead-lettered."""


async def require_operator_site(uow: UnitOfWork, operator_id: str, site_id: str,
                                resident_id: str | None = None) -> dict[str, Any]:
    site = await uow.get(store.SITES, site_id)
    if site is None:
        raise SiteNotKnownYet(f"site {site_id!r} is not known to counselling (housing has not "
                              f"registered it)")
    if site.get("operator_id") != operator_id:
        raise Reject(f"site {site_id!r} is not run by operator {operator_id!r}")
    if resident_id is not None:
        await _require_resident_with(uow, operator_id, resident_id)
    return site


async def _require_resident_with(uow: UnitOfWork, operator_id: str, resident_id: str) -> None:
    """A resident housing places at another operator's site is not this operator's to
    record. One not (yet) known, or moved out, may still be: records arrive late."""
    resident = await uow.get(store.RESIDENTS, resident_id)
    current = (resident or {}).get("site_id")
    if current is None:
        return
    site = await uow.get(store.SITES, current) or {}
    owner = site.get("operator_id", (resident or {}).get("operator_id"))
    if owner is not None and owner != operator_id:
        raise Reject(f"resident {resident_id!r} lives at site {current!r}, which operator "
                     f"{operator_id!r} does not run")
