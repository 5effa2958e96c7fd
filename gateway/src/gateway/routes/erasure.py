"""Erasure of one resident: requested by a city administrator, approved by another (four
eyes, unless the platform is configured otherwise), carried out by every service (each
confirms), shown with each confirmation and the purges of the bus."""

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
    category: pv.ErasureCategory
    reason: pv.Reason | None = None


async def _gone_once_approved(resident_id: str, reply: dict[str, Any], state: State) -> None:
    """An approved erasure has gone out: from now on the resident's reads answer 410 here
    (other gateway instances learn it from the request on the bus)."""
    if reply.get("state") == "approved":
        erasures: Erasures = state.erasures
        audit: AuditLog = state.audit
        erasures.erased(resident_id)
        await audit.pseudonymise(resident_id)


@post("/api/v1/residents/{resident_id:str}/erasure", tags=["privacy"], status_code=202,
      guards=[allow("city_admin")],
      summary="Request a resident's erasure everywhere (every service confirms; the bus is "
              "purged) once another city administrator approves",
      description="Body: {\"category\": \"subject_request\" | \"retention\" | "
                  "\"unlawful_processing\" | \"consent_withdrawn\" | \"other\", "
                  "\"reason\": \"…\" (optional, 3-500 characters, removed once the "
                  "erasure is complete; do not name the person)}. Answers 202 with the "
                  "erasure's status: `awaiting_approval` (four eyes: another city "
                  "administrator approves it with …/erasure/approve) or `approved` (where "
                  "four eyes are off); asking again returns the same request. Once approved "
                  "the resident's reads answer 410.")
async def request_erasure(resident_id: Id, data: JSONBody[ErasureBody],
                          actor: NamedDependency[Actor], state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    body: dict[str, Any] = {"resident_id": resident_id, "category": data.category}
    if data.reason is not None:
        body["reason"] = data.reason
    reply = await forwarder.call(pv.SERVICE, "request_erasure", body, actor)
    await _gone_once_approved(resident_id, reply, state)
    return reply


@post("/api/v1/residents/{resident_id:str}/erasure/approve", tags=["privacy"],
      status_code=202, guards=[allow("city_admin")],
      summary="Approve a requested erasure (a city administrator other than the requester)",
      description="No body. The erasure goes out to every service; the resident's reads "
                  "answer 410 from now on. The requester's own approval is refused (403).")
async def approve_erasure(resident_id: Id, actor: NamedDependency[Actor],
                          state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    reply = await forwarder.call(pv.SERVICE, "approve_erasure",
                                 {"resident_id": resident_id}, actor)
    await _gone_once_approved(resident_id, reply, state)
    return reply


@post("/api/v1/residents/{resident_id:str}/erasure/reject", tags=["privacy"],
      status_code=200, guards=[allow("city_admin")],
      summary="Reject (or withdraw) a requested erasure that awaits approval",
      description="No body. The request leaves the ledger; the resident stays. An approved "
                  "erasure cannot be stopped (409).")
async def reject_erasure(resident_id: Id, actor: NamedDependency[Actor],
                         state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    return await forwarder.call(pv.SERVICE, "reject_erasure", {"resident_id": resident_id},
                                actor)


@get("/api/v1/erasures/pending", tags=["privacy"], guards=[allow("city_admin", "auditor")],
     summary="Erasure requests awaiting a second city administrator's approval (audited)")
async def pending_erasures(actor: NamedDependency[Actor], state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    audit: AuditLog = state.audit
    reply = await forwarder.call(pv.SERVICE, "list_pending_erasures", {}, actor)
    await audit.record(actor, [p["resident_id"] for p in reply.get("pending", [])],
                       action="pending_erasures", sections=[pv.SERVICE])
    return reply


@get("/api/v1/residents/{resident_id:str}/erasure", tags=["privacy"],
     guards=[allow("city_admin", "auditor")],
     summary="An erasure's status: each service's confirmation, what is pending, the purges")
async def erasure_status(resident_id: Id, actor: NamedDependency[Actor],
                         state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    return await forwarder.call(pv.SERVICE, "get_erasure", {"resident_id": resident_id}, actor)


ROUTES = [request_erasure, approve_erasure, reject_erasure, pending_erasures, erasure_status]
