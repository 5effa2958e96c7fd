"""Employment's events: programmes in phases run with non-profit providers, participants
and their way through a phase, coaching on work and qualification, placements.

Events carry ids, states and enumerated reasons only: no names, no free text."""

from __future__ import annotations

from datetime import date
from typing import Literal

from contracts._base import EventData
from contracts.fields import Id
from contracts.housing import ResidenceStatus
from contracts.referrals import ServiceReferralAccepted, ServiceReferralRejected

SERVICE = "employment"

PhaseStatus = Literal["planned", "open", "running", "closed"]
# waitlisted: the phase was full; waiting_for_language_course: registered for a programme
# that requires a concurrent language course the resident does not have yet.
ParticipationStatus = Literal["waitlisted", "registered", "waiting_for_language_course",
                              "active", "completed", "dropped_out"]
DropOutReason = Literal["moved_away", "health", "family_care", "no_show", "lost_interest",
                        "other"]
CoachingTopic = Literal["recognition_of_qualifications", "applications",
                        "vocational_training", "internships"]
PlacementKind = Literal["internship", "vocational_training", "job"]
Flag = Literal["language_course_withdrawn"]


class _ResidentEvent(EventData):
    resident_id: Id

    def resident_key(self) -> str | None:
        return self.resident_id


class _ParticipationEvent(_ResidentEvent):
    participation_id: Id
    programme_id: Id
    phase: int


class ProgrammeCreated(EventData,
                       tag="im.employment.programme_created.v1"):
    programme_id: Id
    name: str
    providers: list[str]
    allowed_statuses: list[ResidenceStatus]
    min_age: int
    language_course_required: bool


class PhaseAdded(EventData, tag="im.employment.phase_added.v1"):
    programme_id: Id
    phase: int
    starts: date
    ends: date
    capacity: int
    status: PhaseStatus


class PhaseChanged(EventData, tag="im.employment.phase_changed.v1"):
    programme_id: Id
    phase: int
    capacity: int
    status: PhaseStatus


class ParticipantRegistered(_ParticipationEvent,
                            tag="im.employment.participant_registered.v1"):
    status: Literal["registered", "waiting_for_language_course", "waitlisted"]
    position: int | None = None


class ParticipantPromoted(_ParticipationEvent,
                          tag="im.employment.participant_promoted.v1"):
    """A waitlisted participant got a seat that became free."""

    status: Literal["registered", "waiting_for_language_course"]


class ParticipantActivated(_ParticipationEvent,
                           tag="im.employment.participant_activated.v1"):
    # True when a language-course enrolment activated a waiting participant.
    automatic: bool = False


class ParticipantMovedToNextPhase(_ParticipationEvent,
                                  tag="im.employment.participant_moved_to_next_phase.v1"):
    from_phase: int
    status: Literal["registered", "waiting_for_language_course"]


class ParticipantCompleted(_ParticipationEvent,
                           tag="im.employment.participant_completed.v1"):
    placement_id: str | None = None


class ParticipantDroppedOut(_ParticipationEvent,
                            tag="im.employment.participant_dropped_out.v1"):
    reason: DropOutReason
    was: ParticipationStatus


class ParticipationFlagged(_ParticipationEvent,
                           tag="im.employment.participation_flagged.v1"):
    flag: Flag


class ParticipationFlagCleared(_ParticipationEvent,
                               tag="im.employment.participation_flag_cleared.v1"):
    flag: Flag


class CoachingNeedOpened(_ResidentEvent,
                         tag="im.employment.coaching_need_opened.v1"):
    need_id: Id
    referral_id: str | None = None


class CoachingRecorded(_ResidentEvent,
                       tag="im.employment.coaching_recorded.v1"):
    coaching_id: Id
    topic: CoachingTopic
    on: date
    need_id: str | None = None


class PlacementRecorded(_ParticipationEvent,
                        tag="im.employment.placement_recorded.v1"):
    placement_id: Id
    kind: PlacementKind
    sector: str
    starts: date
    hours: float


# Referral answers before the shared contract (contracts.referrals): no longer published,
# still decoded, for replay of logs that hold them.

class EmploymentReferralAccepted(ServiceReferralAccepted,
                                 tag="im.employment.referral_accepted.v1"):
    pass


class EmploymentReferralRejected(ServiceReferralRejected,
                                 tag="im.employment.referral_rejected.v1"):
    pass
