"""The employment service's spec: every message it handles and the handler for it."""

from __future__ import annotations

from pymongo import IndexModel

from contracts import education as edu
from contracts import employment as ev
from contracts import employment_commands as cmd
from contracts import housing as hs
from contracts.counselling import ReferralRequested
from employment import (
    coaching,
    erasure,
    participants,
    phases,
    placements,
    programmes,
    projection,
    queries,
    referrals,
    store,
)
from im_runtime import Handles, On, ServiceSpec, topic_is, views
from im_runtime.spec import Retention

# Default periods in days (IM_RETENTION_EMPLOYMENT_<NAME> overrides): three years, the
# usual audit period of the programmes' funders, after a participation ended (its
# placement with it), a coaching session was held, a coaching need was raised, or the
# resident left the city.
THREE_YEARS = 1095

spec = ServiceSpec(
    name=ev.SERVICE,
    version="1.0.0",
    description="Programmes in phases, participants, language-course requirement, coaching, "
                "placements",
    publishes=(ev.ProgrammeCreated, ev.PhaseAdded, ev.PhaseChanged, ev.ParticipantRegistered,
               ev.ParticipantPromoted, ev.ParticipantActivated, ev.ParticipantMovedToNextPhase,
               ev.ParticipantCompleted, ev.ParticipantDroppedOut, ev.ParticipationFlagged,
               ev.ParticipationFlagCleared, ev.CoachingNeedOpened, ev.CoachingRecorded,
               ev.PlacementRecorded),
    # Answered with the shared referral contract (contracts.referrals).
    referral_topics=referrals.TOPICS,
    consumes=(
        On(hs.ResidentRegistered, hs.ResidentCorrected, hs.ResidenceStatusChanged,
           hs.ResidentPlaced,
           hs.ResidentTransferred, hs.ResidentMovedOut, handler=projection.on_housing),
        On(edu.EnrolmentConfirmed, edu.EnrolmentConfirmedV2,  # both while v1 and v2 run
           edu.EnrolmentPromoted, edu.EnrolmentWithdrawn, edu.EnrolmentCompleted,
           handler=projection.on_enrolment),
        On(ReferralRequested, where=topic_is(*referrals.TOPICS),
           handler=referrals.on_referral_requested),
    ),
    commands=(
        Handles("create_programme", cmd.CreateProgramme, programmes.create_programme,
                cmd.ProgrammeView),
        Handles("add_phase", cmd.AddPhase, programmes.add_phase, cmd.ProgrammeView),
        Handles("change_phase", cmd.ChangePhase, programmes.change_phase, cmd.ProgrammeView),
        Handles("get_programme", cmd.GetProgramme, programmes.get_programme, cmd.ProgrammeView,
                read=True),
        Handles("get_phase_participants", cmd.GetPhaseParticipants,
                phases.get_phase_participants, cmd.PhaseParticipants, read=True),
        Handles("register_participant", cmd.RegisterParticipant,
                participants.register_participant, cmd.ParticipationView),
        Handles("activate_participant", cmd.ActivateParticipant,
                participants.activate_participant, cmd.ParticipationView),
        Handles("complete_participation", cmd.CompleteParticipation,
                participants.complete_participation, cmd.ParticipationView),
        Handles("drop_out_participant", cmd.DropOutParticipant,
                participants.drop_out_participant, cmd.ParticipationView),
        Handles("move_to_next_phase", cmd.MoveToNextPhase, participants.move_to_next_phase,
                cmd.ParticipationView),
        Handles("record_coaching", cmd.RecordCoaching, coaching.record_coaching,
                cmd.CoachingView),
        Handles("record_placement", cmd.RecordPlacement, placements.record_placement,
                cmd.ParticipationView),
    ),
    queries=views(queries.resident_overview, queries.site_overview, queries.city_stats),
    personal_reads={"get_phase_participants": "resident_id"},  # audited by the gateway
    indexes={
        store.PARTICIPATIONS: [IndexModel("resident_id"), IndexModel("programme_id"),
                               IndexModel("status"), IndexModel("phase")],
        store.PHASES: [IndexModel("programme_id")],
        store.RESIDENTS: [IndexModel("site_id")],
        store.NEEDS: [IndexModel("resident_id")], store.COACHING: [IndexModel("resident_id")],
        store.PLACEMENTS: [IndexModel("resident_id")], store.PROGRAMMES: [],
    },
    erase=erasure.erase,
    retention=(
        Retention("participations", store.PARTICIPATIONS, "ended_at", THREE_YEARS),
        Retention("placements", store.PLACEMENTS, "recorded_at", THREE_YEARS),
        Retention("coaching", store.COACHING, "on", THREE_YEARS, stored="date"),
        Retention("coaching_needs", store.NEEDS, "requested_on", THREE_YEARS, stored="date"),
        Retention("residents", store.RESIDENTS, "left_city_at", THREE_YEARS),
    ),
)
