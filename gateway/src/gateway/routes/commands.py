"""Commands over HTTP. Each named route forwards to one command of its owning service
(path parameters are merged into the body); the generic route reaches any command of
any service, including services added later. The body is the command's JSON without
`actor`: the gateway sets the actor from the token and the service validates the rest."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from litestar import Request, post
from litestar.datastructures import State
from litestar.di import NamedDependency
from litestar.params import FromPath, JSONBody

from contracts import Actor
from gateway.audit import AuditLog
from gateway.auth import Role, allow
from gateway.directory import Directory
from gateway.forward import Forwarder

Body = JSONBody[dict[str, Any]]
Who = NamedDependency[Actor]
STAFF: tuple[Role, ...] = ("city_admin", "social_worker")
WORKERS: tuple[Role, ...] = ("city_admin", "social_worker", "operator", "provider")


@dataclass(frozen=True)
class Named:
    path: str
    service: str
    command: str
    contract: str  # the contracts class of the body, for the API description (openapi.py)
    roles: tuple[Role, ...] = STAFF
    reply: str = ""  # the contracts class of the service's answer, likewise


NAMED = (
    Named("/api/v1/residents", "housing", "register_resident", "housing_commands.RegisterResident",
          reply="housing_commands.ResidentRecord"),
    Named("/api/v1/households/{household_id:str}/placement", "housing", "place_household",
          "housing_commands.PlaceHousehold",
          reply="housing_commands.Placed"),
    Named("/api/v1/households/{household_id:str}/move-out", "housing", "move_out_household",
          "housing_commands.MoveOutHousehold",
          reply="housing_commands.Placed"),
    Named("/api/v1/households/{household_id:str}/move-out-case", "housing",
          "open_move_out_case", "housing_commands.OpenMoveOutCase",
          reply="housing_commands.CaseView"),
    Named("/api/v1/move-out-cases/{case_id:str}/stage", "housing", "advance_move_out_case",
          "housing_commands.AdvanceMoveOutCase",
          reply="housing_commands.CaseView"),
    Named("/api/v1/move-out-cases/{case_id:str}/offers", "housing", "record_offer",
          "housing_commands.RecordOffer",
          reply="housing_commands.CaseView"),
    Named("/api/v1/move-out-cases/{case_id:str}/viewings", "housing", "record_viewing",
          "housing_commands.RecordViewing",
          reply="housing_commands.CaseView"),
    Named("/api/v1/employment/participants", "employment", "register_participant",
          "employment_commands.RegisterParticipant", (*STAFF, "provider"),
          reply="employment_commands.ParticipationView"),
    Named("/api/v1/employment/coaching", "employment", "record_coaching",
          "employment_commands.RecordCoaching",
          reply="employment_commands.CoachingView"),
    Named("/api/v1/employment/participations/{participation_id:str}/placement", "employment",
          "record_placement", "employment_commands.RecordPlacement", (*STAFF, "provider"),
          reply="employment_commands.ParticipationView"),
    Named("/api/v1/education/enrolments", "education", "enrol", "education_commands.Enrol",
          (*STAFF, "provider"),
          reply="education_commands.EnrolmentView"),
    Named("/api/v1/education/enrolments/{enrolment_id:str}/withdrawal", "education", "withdraw",
          "education_commands.Withdraw", (*STAFF, "provider"),
          reply="education_commands.EnrolmentView"),
)


def named_route(n: Named) -> Any:
    @post(n.path, name=n.command, tags=[n.service], guards=[allow(*n.roles)], status_code=200,
          summary=f"{n.service}: {n.command.replace('_', ' ')}",
          description=f"Body: contracts.{n.contract} without `actor` (path parameters are "
                      f"filled in). Replies with the service's answer.")
    async def forward(request: Request[Any, Any, Any], data: Body, actor: Who,
                      state: State) -> dict[str, Any]:
        forwarder: Forwarder = state.forwarder
        return await forwarder.call(n.service, n.command,
                                    {**data, **request.path_params}, actor)

    return forward


@post("/api/v1/commands/{service:str}/{command:str}", tags=["commands"], status_code=200,
      guards=[allow(*WORKERS)], summary="Any command of any running service",
      description="Body: the command's JSON without `actor`. 404 when there is no such "
                  "service or the running service has no such command, 503 naming the "
                  "service when none of it runs. Replies with personal data (the service "
                  "marks which) are audited.")
async def generic_command(service: FromPath[str], command: FromPath[str], data: Body,
                          actor: Who, state: State) -> dict[str, Any]:
    forwarder: Forwarder = state.forwarder
    reply = await forwarder.call(service, command, data, actor)
    await audit_personal(state.directory, state.audit, actor, service, command, reply)
    return reply


async def audit_personal(directory: Directory, audit: AuditLog, actor: Actor, service: str,
                         command: str, reply: dict[str, Any]) -> None:
    """A reply that carries personal data (its service says which commands do) is audited
    like the views: an entry per person it names, or no answer (503). A service not seen
    yet is taken to read residents: its reply is audited for every resident it names."""
    reads = directory.personal_reads(service)
    if reads is not None and command not in reads:
        return
    field = reads[command] if reads is not None else "resident_id"
    await audit.record(actor, sorted(set(named(reply, field))), action=f"{service}.{command}",
                       sections=[service])


def named(value: Any, field: str) -> list[str]:
    """Every string under `field`, at any depth of a reply."""
    if isinstance(value, dict):
        own = [value[field]] if isinstance(value.get(field), str) else []
        return own + [n for k, v in value.items() if k != field for n in named(v, field)]
    if isinstance(value, list):
        return [n for v in value for n in named(v, field)]
    return []


ROUTES = [*(named_route(n) for n in NAMED), generic_command]
