"""GET /api/v1/audit: the reads of residents' personal data, for auditors only (those
whose reads are recorded, the city's admins included, cannot read the record)."""

from __future__ import annotations

from typing import Annotated

from litestar import get
from litestar.datastructures import State
from litestar.params import QueryParameter

from gateway.audit import AuditLog
from gateway.auth import allow
from gateway.schemas import AuditPage


@get("/api/v1/audit", tags=["audit"], guards=[allow("auditor")],
     summary="Audit entries, newest first, by resident and/or by the reader's subject")
async def audit_log(state: State,
                    resident: Annotated[str | None, QueryParameter(max_length=64)] = None,
                    subject: Annotated[str | None, QueryParameter(max_length=200)] = None,
                    offset: Annotated[int, QueryParameter(ge=0)] = 0,
                    limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50) -> AuditPage:
    log: AuditLog = state.audit
    items, total = await log.find(resident=resident, subject=subject, offset=offset,
                                  limit=limit)
    return AuditPage(items=items, total=total, offset=offset, limit=limit)
