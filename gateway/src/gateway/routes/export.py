"""GET /api/v1/residents/{id}/export: everything every service holds about a resident, on
their request (Art. 15 GDPR), for city administrators; the read is audited. JSON, or a
readable page in German or English (`?format=html&lang=de|en`)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec
from litestar import MediaType, Response, get
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import PathParameter, QueryParameter

from contracts import Actor, utcnow
from contracts import privacy as pv
from gateway import export_html
from gateway.aggregate import Aggregator
from gateway.audit import AuditLog
from gateway.auth import allow
from gateway.errors import ApiError

Id = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
READS = 500  # the gateway's own part: the latest reads of the resident's data


@get("/api/v1/residents/{resident_id:str}/export", tags=["privacy"],
     guards=[allow("city_admin")],
     summary="Everything every service holds about a resident (Art. 15 GDPR; audited)",
     description="Each service's documents about the resident, and the reads of their "
                 "data. `format=html` gives a page to hand over, in `lang` de or en.")
async def resident_export(resident_id: Id, actor: NamedDependency[Actor], state: State,
                          format: Annotated[Literal["json", "html"], QueryParameter()] = "json",
                          lang: Annotated[export_html.Lang, QueryParameter()] = "de",
                          ) -> Response[Any]:
    aggregator: Aggregator = state.aggregator
    audit: AuditLog = state.audit
    state.erasures.check(resident_id)  # 410 once erased
    agg = await aggregator.ask(pv.RESIDENT_EXPORT,
                               pv.GetResidentExport(resident_id=resident_id, actor=actor))
    sections = {name: s for name, s in agg.sections.items() if s}
    if not sections and not agg.missing:
        raise ApiError("not_found", "no service holds data about this resident",
                       resident_id=resident_id)
    reads, _ = await audit.find(resident=resident_id, subject=None, offset=0, limit=READS)
    if reads:
        sections["gateway"] = {"collections": {"audit": msgspec.to_builtins(reads)},
                               "documents": len(reads)}
    await audit.record(actor, [resident_id], action=pv.RESIDENT_EXPORT,
                       sections=sorted(sections))
    export = {"resident_id": resident_id, "generated_at": utcnow().isoformat(),
              "sections": sections, "missing": sorted(agg.missing)}
    if format == "html":
        return Response(export_html.render(export, lang), media_type=MediaType.HTML)
    return Response(export, media_type=MediaType.JSON)


ROUTES = [resident_export]
