"""Employment's commands (`im.cmd.employment.<name>`) and the views it replies with."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import msgspec

from contracts._base import Command, Reply
from contracts.employment import (
    CoachingTopic,
    DropOutReason,
    Flag,
    Id,
    ParticipationStatus,
    PhaseStatus,
    PlacementKind,
)
from contracts.housing import ResidenceStatus

Text = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
PhaseNumber = Annotated[int, msgspec.Meta(ge=1, le=50)]
Seats = Annotated[int, msgspec.Meta(ge=0, le=5000)]
Age = Annotated[int, msgspec.Meta(ge=14, le=67)]
Hours = Annotated[float, msgspec.Meta(gt=0, le=48)]
Summary = Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class CreateProgramme(Command, frozen=True, kw_only=True):
    programme_id: Id
    name: Text
    providers: Annotated[list[Id], msgspec.Meta(min_length=1, max_length=20)]
    allowed_statuses: Annotated[list[ResidenceStatus], msgspec.Meta(min_length=1, max_length=5)]
    min_age: Age = 18
    language_course_required: bool = False


class AddPhase(Command, frozen=True, kw_only=True):
    programme_id: Id
    phase: PhaseNumber
    starts: date
    ends: date
    capacity: Seats
    status: PhaseStatus = "planned"


class ChangePhase(Command, frozen=True, kw_only=True):
    programme_id: Id
    phase: PhaseNumber
    capacity: Seats | None = None
    status: PhaseStatus | None = None


class GetProgramme(Command, frozen=True, kw_only=True):
    programme_id: Id


class GetPhaseParticipants(Command, frozen=True, kw_only=True):
    """A programme phase with its participants (a social worker's: those of her sites),
    seated first, then the waitlist in order, then those who finished or left."""

    programme_id: Id
    phase: PhaseNumber
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 100


class RegisterParticipant(Command, frozen=True, kw_only=True):
    programme_id: Id
    phase: PhaseNumber
    resident_id: Id


class ActivateParticipant(Command, frozen=True, kw_only=True):
    participation_id: Id


class CompleteParticipation(Command, frozen=True, kw_only=True):
    participation_id: Id


class DropOutParticipant(Command, frozen=True, kw_only=True):
    participation_id: Id
    reason: DropOutReason


class MoveToNextPhase(Command, frozen=True, kw_only=True):
    participation_id: Id


class RecordCoaching(Command, frozen=True, kw_only=True):
    """A coaching session by a city social worker; `summary` stays in employment."""

    resident_id: Id
    topic: CoachingTopic
    on: date
    need_id: Id | None = None
    summary: Summary | None = None


class RecordPlacement(Command, frozen=True, kw_only=True):
    """An internship, vocational training or job: completes the participation."""

    participation_id: Id
    kind: PlacementKind
    sector: Text
    starts: date
    hours: Hours


# replies --------------------------------------------------------------------------------

class PhaseView(Reply, frozen=True, kw_only=True):
    phase: int
    starts: date
    ends: date
    capacity: int
    phase_status: PhaseStatus  # `status` is the reply's tag
    taken: int
    waitlisted: int


class ProgrammeView(Reply, frozen=True, kw_only=True):
    programme_id: str
    name: str
    providers: list[str]
    allowed_statuses: list[ResidenceStatus]
    min_age: int
    language_course_required: bool
    phases: list[PhaseView] = []


class ParticipationView(Reply, frozen=True, kw_only=True):
    participation_id: str
    resident_id: str
    programme_id: str
    phase: int
    state: ParticipationStatus  # `status` is the reply's tag
    position: int | None = None
    flags: list[Flag] = []
    reason: DropOutReason | None = None
    placement_id: str | None = None


class CoachingView(Reply, frozen=True, kw_only=True):
    coaching_id: str
    resident_id: str
    topic: CoachingTopic
    on: date
    need_id: str | None = None
    open_needs: int = 0


class PhaseParticipants(Reply, frozen=True, kw_only=True):
    programme_id: str
    name: str
    phase: PhaseView
    items: list[ParticipationView]
    total: int
    offset: int
    limit: int
