"""Aggregated views by scatter-gather: a resident, a site, the city."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import PathParameter

from contracts import Actor
from contracts.queries import (
    CITY_STATS,
    RESIDENT_OVERVIEW,
    SITE_OVERVIEW,
    GetCityStats,
    GetResidentOverview,
    GetSiteOverview,
)
from gateway import access
from gateway.aggregate import Aggregator
from gateway.audit import AuditLog
from gateway.auth import ANY_ROLE, allow
from gateway.errors import ApiError
from gateway.schemas import Aggregate

Id = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


@get("/api/v1/residents/{resident_id:str}", tags=["residents"],
     guards=[allow("city_admin", "social_worker", "operator", "provider")],
     summary="A resident: one section per service that answered in time (read is audited)")
async def resident(resident_id: Id, actor: NamedDependency[Actor], state: State) -> Aggregate:
    aggregator: Aggregator = state.aggregator
    audit: AuditLog = state.audit
    state.erasures.check(resident_id)  # 410 once erased
    agg = await aggregator.ask(RESIDENT_OVERVIEW,
                               GetResidentOverview(resident_id=resident_id, actor=actor))
    try:
        view = access.resident_view(actor, resident_id, agg)
    except ApiError as exc:
        if exc.code == "forbidden":
            await audit.record(actor, [resident_id], action=RESIDENT_OVERVIEW, sections=[],
                               outcome="refused")
        raise
    await audit.record(actor, [resident_id], action=RESIDENT_OVERVIEW,
                       sections=sorted(view.sections))
    return view


@get("/api/v1/sites/{site_id:str}", tags=["sites"],
     guards=[allow("city_admin", "social_worker", "operator")],
     summary="A site: one section per service that answered in time")
async def site(site_id: Id, actor: NamedDependency[Actor], state: State) -> Aggregate:
    aggregator: Aggregator = state.aggregator
    access.site_allowed(actor, site_id, None)
    agg = await aggregator.ask(SITE_OVERVIEW, GetSiteOverview(site_id=site_id, actor=actor))
    access.site_allowed(actor, site_id, agg)
    if not any(agg.sections.values()) and not agg.missing:
        raise ApiError("not_found", f"no service knows site {site_id}", site_id=site_id)
    return agg


@get("/api/v1/stats", tags=["city"], guards=[ANY_ROLE],
     summary="City-wide figures: one section per service that answered in time")
async def stats(actor: NamedDependency[Actor], state: State) -> Aggregate:
    aggregator: Aggregator = state.aggregator
    return await aggregator.ask(CITY_STATS, GetCityStats(actor=actor))
