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
from gateway.errors import ApiError
from gateway.forward import Forwarder

Id = Annotated[str, PathParameter(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]


class ErasureBody(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    category: pv.ErasureCategory
    reason: pv.Reason | None = None


async def _gone_once_approved(person_id: str, reply: dict[str, Any], state: State) -> None:
    """An approved erasure has gone out: from now on the person's reads answer 410 here
    (other gateway instances learn it from the request on the bus)."""
    if reply.get("state") == "approved":
        erasures: Erasures = state.erasures
        await erasures.gone(person_id, str(reply.get("person") or "resident"))


async def _request(person_id: str, person: str, data: ErasureBody, actor: Actor,
                   state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    body: dict[str, Any] = {"resident_id": person_id, "category": data.category,
                            "person": person}
    if data.reason is not None:
        body["reason"] = data.reason
    reply = await forwarder.call(pv.SERVICE, "request_erasure", body, actor)
    await _gone_once_approved(person_id, reply, state)
    return reply


async def _decide(person_id: str, step: str, actor: Actor, state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    reply = await forwarder.call(pv.SERVICE, f"{step}_erasure", {"resident_id": person_id},
                                 actor)
    await _gone_once_approved(person_id, reply, state)
    return reply


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
    return await _request(resident_id, "resident", data, actor, state)


@post("/api/v1/volunteers/{volunteer_id:str}/erasure", tags=["privacy"], status_code=202,
      guards=[allow("city_admin")],
      summary="Request a volunteer's erasure (their registration, every message naming "
              "them) once another city administrator approves",
      description="Body as for a resident's erasure. Approve, reject and follow it under "
                  "/api/v1/people/{id}/erasure.")
async def request_volunteer_erasure(volunteer_id: Id, data: JSONBody[ErasureBody],
                                    actor: NamedDependency[Actor], state: State
                                    ) -> dict[str, Any]:
    return await _request(volunteer_id, "volunteer", data, actor, state)


@post("/api/v1/staff/{staff_id:str}/erasure", tags=["privacy"], status_code=202,
      guards=[allow("city_admin")],
      summary="Request a staff member's erasure (deployment, account, sessions; the audit "
              "no longer names them) once another city administrator approves",
      description="Body as for a resident's erasure. Approve, reject and follow it under "
                  "/api/v1/people/{id}/erasure. Nobody erases their own account (403).")
async def request_staff_erasure(staff_id: Id, data: JSONBody[ErasureBody],
                                actor: NamedDependency[Actor], state: State) -> dict[str, Any]:
    if staff_id == actor.subject:
        raise ApiError("forbidden", "you cannot request the erasure of your own account")
    return await _request(staff_id, "staff", data, actor, state)


APPROVE = dict(
    status_code=202, tags=["privacy"], guards=[allow("city_admin")],
    summary="Approve a requested erasure (a city administrator other than the requester)",
    description="No body. The erasure goes out to every service; the person's reads "
                "answer 410 from now on. The requester's own approval is refused (403).")
REJECT = dict(
    status_code=200, tags=["privacy"], guards=[allow("city_admin")],
    summary="Reject (or withdraw) a requested erasure that awaits approval",
    description="No body. The request leaves the ledger; the person stays. An approved "
                "erasure cannot be stopped (409).")


@post("/api/v1/residents/{resident_id:str}/erasure/approve", **APPROVE)  # type: ignore[arg-type]
async def approve_erasure(resident_id: Id, actor: NamedDependency[Actor],
                          state: State) -> dict[str, Any]:
    return await _decide(resident_id, "approve", actor, state)


@post("/api/v1/residents/{resident_id:str}/erasure/reject", **REJECT)  # type: ignore[arg-type]
async def reject_erasure(resident_id: Id, actor: NamedDependency[Actor],
                         state: State) -> dict[str, Any]:
    return await _decide(resident_id, "reject", actor, state)


@post("/api/v1/people/{person_id:str}/erasure/approve", **APPROVE)  # type: ignore[arg-type]
async def approve_person_erasure(person_id: Id, actor: NamedDependency[Actor],
                                 state: State) -> dict[str, Any]:
    return await _decide(person_id, "approve", actor, state)


@post("/api/v1/people/{person_id:str}/erasure/reject", **REJECT)  # type: ignore[arg-type]
async def reject_person_erasure(person_id: Id, actor: NamedDependency[Actor],
                                state: State) -> dict[str, Any]:
    return await _decide(person_id, "reject", actor, state)


@get("/api/v1/erasures/pending", tags=["privacy"], guards=[allow("city_admin", "auditor")],
     summary="Erasure requests awaiting a second city administrator's approval (audited)")
async def pending_erasures(actor: NamedDependency[Actor], state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    audit: AuditLog = state.audit
    reply = await forwarder.call(pv.SERVICE, "list_pending_erasures", {}, actor)
    await audit.record(actor, [p["resident_id"] for p in reply.get("pending", [])],
                       action="pending_erasures", sections=[pv.SERVICE])
    return reply


STATUS = dict(tags=["privacy"], guards=[allow("city_admin", "auditor")],
              summary="An erasure's status: each service's confirmation, what is pending, "
                      "the purges")


@get("/api/v1/residents/{resident_id:str}/erasure", **STATUS)  # type: ignore[arg-type]
async def erasure_status(resident_id: Id, actor: NamedDependency[Actor],
                         state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    return await forwarder.call(pv.SERVICE, "get_erasure", {"resident_id": resident_id}, actor)


@get("/api/v1/people/{person_id:str}/erasure", **STATUS)  # type: ignore[arg-type]
async def person_erasure_status(person_id: Id, actor: NamedDependency[Actor],
                                state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    return await forwarder.call(pv.SERVICE, "get_erasure", {"resident_id": person_id}, actor)


ROUTES = [request_erasure, request_volunteer_erasure, request_staff_erasure,
          approve_erasure, reject_erasure, approve_person_erasure, reject_person_erasure,
          pending_erasures, erasure_status, person_erasure_status]
