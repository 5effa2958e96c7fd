"""Paged lists owned by one service (housing): sites and residents."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromQuery, QueryParameter

from contracts import Actor
from gateway.audit import AuditLog
from gateway.auth import allow
from gateway.forward import Forwarder
from gateway.schemas import ListPage

Offset = Annotated[int, QueryParameter(ge=0)]
Limit = Annotated[int, QueryParameter(ge=1, le=500)]


def _page(reply: dict[str, Any]) -> ListPage:
    items = [{k: v for k, v in item.items() if k != "status"} for item in reply["items"]]
    return ListPage(items=items, total=reply["total"], offset=reply["offset"],
                    limit=reply["limit"])


@get("/api/v1/sites", tags=["sites"], guards=[allow("city_admin", "social_worker", "operator")],
     summary="Sites, paged (housing's list_sites; operators see their own shelters)")
async def list_sites(actor: NamedDependency[Actor], state: State,
                     kind: FromQuery[str | None] = None,
                     district: FromQuery[str | None] = None, offset: Offset = 0,
                     limit: Limit = 50) -> ListPage:
    forwarder: Forwarder = state.forwarder
    body = {"kind": kind, "district": district, "offset": offset, "limit": limit}
    return _page(await forwarder.call("housing", "list_sites",
                                      {k: v for k, v in body.items() if v is not None}, actor))


@get("/api/v1/residents", tags=["residents"], guards=[allow("city_admin", "social_worker")],
     summary="Residents, paged, by site and name (housing's list_residents; audited)")
async def list_residents(actor: NamedDependency[Actor], state: State,
                         site: Annotated[str | None, QueryParameter(max_length=64)] = None,
                         q: Annotated[str | None, QueryParameter(max_length=100)] = None,
                         offset: Offset = 0, limit: Limit = 50) -> ListPage:
    forwarder: Forwarder = state.forwarder
    audit: AuditLog = state.audit
    body = {"site_id": site, "q": q, "offset": offset, "limit": limit}
    page = _page(await forwarder.call("housing", "list_residents",
                                      {k: v for k, v in body.items() if v is not None}, actor))
    await audit.record(actor, [r["resident_id"] for r in page.items], action="list_residents",
                       sections=["housing"])
    return page
