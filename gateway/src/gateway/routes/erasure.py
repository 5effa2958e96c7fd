"""Erasure of one resident: requested by a city administrator, carried out by every
service (each confirms), shown with each confirmation and the purges of the bus."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import get, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import JSONBody, PathParameter

from contracts import Actor
from contracts import privacy as pv
from gateway.audit import AuditLog
from gateway.auth import allow
from gateway.erasures import Erasures
from gateway.forward import Forwarder

Id = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ErasureBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    reason: pv.Reason


@post("/api/v1/residents/{resident_id:str}/erasure", tags=["privacy"], status_code=202,
      guards=[allow("city_admin")],
      summary="Erase a resident everywhere (every service confirms; the bus is purged)",
      description="Body: {\"reason\": \"…\"} (3-500 characters; do not name the person). "
                  "Answers 202 with the erasure's status; asking again returns the same "
                  "erasure. From now on the resident's reads answer 410.")
async def request_erasure(resident_id: Id, data: JSONBody[ErasureBody],
                          actor: NamedDependency[Actor], state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    erasures: Erasures = state.erasures
    audit: AuditLog = state.audit
    reply = await forwarder.call(pv.SERVICE, "request_erasure",
                                 {"resident_id": resident_id, "reason": data.reason}, actor)
    erasures.erased(resident_id)
    await audit.pseudonymise(resident_id)
    return reply


@get("/api/v1/residents/{resident_id:str}/erasure", tags=["privacy"],
     guards=[allow("city_admin", "auditor")],
     summary="An erasure's status: each service's confirmation, what is pending, the purges")
async def erasure_status(resident_id: Id, actor: NamedDependency[Actor],
                         state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    return await forwarder.call(pv.SERVICE, "get_erasure", {"resident_id": resident_id}, actor)


ROUTES = [request_erasure, erasure_status]
