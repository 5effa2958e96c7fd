"""The plans service's own messages, built on the platform's bases.

A plugin from a third party cannot add to the shared `contracts` package, so it carries
its contracts here (stored examples in `services/plans/examples/`, decoded by a test).
Its events name plans, goals and households, never a resident and never free text: a
goal's title and a status note stay in this service."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Literal

import msgspec

from contracts import Command, EventData, Reply, Struct

SERVICE = "plans"

Id = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Title = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
Note = Annotated[str, msgspec.Meta(max_length=1000)]
Level = Literal["A1", "A2", "B1"]
Phase = Annotated[int, msgspec.Meta(ge=1, le=20)]

# The fields of the city's integration management (seed: "Aufgaben des
# Integrationsmanagements", and the operators' categories for health):
# housing: Auszugsmanagement, Wohnungssuche, Umzugshilfe; language: Sprachkurse;
# education: Zugang zu Kitas, Schulen, Bildungsangebote; work: Coaching zu Arbeit und
# Qualifikation; authorities: Zugang zu Behörden, Aufenthalt; health: Zugang zu
# gesundheitlicher Versorgung; neighbourhood: Integration ins städtische Umfeld,
# ehrenamtliche Unterstützer.
Field = Literal["housing", "language", "education", "work", "authorities", "health",
                "neighbourhood"]
FIELDS: tuple[str, ...] = ("housing", "language", "education", "work", "authorities",
                           "health", "neighbourhood")
Party = Literal["social_worker", "operator", "provider", "resident"]
GoalStatus = Literal["open", "in_progress", "reached", "dropped"]
STATUSES: tuple[str, ...] = ("open", "in_progress", "reached", "dropped")
# Why a goal's status changed: by a fact another service reported, because its steps are
# all done, or by hand (started, confirmed reached, or dropped for a reason).
StatusReason = Literal["fact", "steps_done", "started", "confirmed", "moved_away",
                       "no_longer_wanted", "not_reachable", "replaced", "other", "reopened"]
ReviewOutcome = Literal["on_track", "needs_support", "goals_changed", "stalled"]
CloseReason = Literal["goals_reached", "moved_away", "declined", "transferred", "other"]
# Facts other services publish that a goal or a step can be linked to. Those about the
# household (a move-out case covers it) need no resident; the others name one.
FactKind = Literal["language_course_enrolled", "language_course_completed",
                   "kita_place_taken", "school_place_taken", "move_out_case_opened",
                   "moved_out", "programme_joined", "programme_phase_completed", "placement",
                   "tandem_started", "referral_accepted"]
HOUSEHOLD_FACTS: frozenset[str] = frozenset({"move_out_case_opened", "moved_out"})
PlacementKind = Literal["internship", "vocational_training", "job"]
Topic = Annotated[str, msgspec.Meta(pattern=r"^[a-z][a-z0-9_]{0,63}$")]


# events ---------------------------------------------------------------------------------

class PlanCreated(EventData, tag="im.plans.plan_created.v1"):
    plan_id: Id
    household_id: Id
    site_id: str | None = None
    social_worker: str | None = None
    goals: int = 0


class GoalAdded(EventData, tag="im.plans.goal_added.v1"):
    plan_id: Id
    goal_id: Id
    household_id: Id
    field: Field
    member: bool  # for one member (True) or the whole household
    due: date | None = None


class GoalStatusChanged(EventData,
                        tag="im.plans.goal_status_changed.v1"):
    plan_id: Id
    goal_id: Id
    field: Field
    was: GoalStatus
    status: GoalStatus
    reason: StatusReason
    by_event: str | None = None  # the type of the event that did it (reason `fact`)


class ConsentRecorded(EventData, tag="im.plans.consent_recorded.v1"):
    plan_id: Id
    given: bool
    on: date


class PlanReviewed(EventData, tag="im.plans.plan_reviewed.v1"):
    plan_id: Id
    on: date
    outcome: ReviewOutcome
    next_review: date | None = None


class PlanClosed(EventData, tag="im.plans.plan_closed.v1"):
    plan_id: Id
    household_id: Id
    reason: CloseReason


class PlanHandedOver(EventData, tag="im.plans.plan_handed_over.v1"):
    """The plan's responsible city social worker changed."""

    plan_id: Id
    household_id: Id
    previous: str | None
    social_worker: Id


EVENTS: tuple[type[EventData], ...] = (PlanCreated, GoalAdded, GoalStatusChanged,
                                        ConsentRecorded, PlanReviewed, PlanClosed,
                                        PlanHandedOver)


# parts of commands ----------------------------------------------------------------------

class Responsible(Struct):
    """Who carries a goal or step: a party, and which one where it matters (a staff id,
    an operator or provider id)."""

    party: Party
    id: Id | None = None


class LinkIn(Struct):
    """A fact that moves a goal (or a step) forward when another service reports it.
    `resident_id` defaults to the goal's member; household facts need none."""

    fact: FactKind
    resident_id: Id | None = None
    level: Level | None = None  # language_course_completed: at least this level
    phase: Phase | None = None  # programme_phase_completed: this phase (any without)
    placement_kind: PlacementKind | None = None  # placement: this kind (any without)
    topic: Topic | None = None  # referral_accepted: this topic (any without)


class StepIn(Struct):
    title: Title
    responsible: Responsible
    due: date | None = None
    link: LinkIn | None = None


class GoalIn(Struct):
    """A goal for one member (`resident_id`) or for the whole household (None)."""

    resident_id: Id | None = None
    field: Field
    title: Title
    responsible: Responsible
    due: date | None = None
    set_on: date | None = None  # when it was agreed (today when not given)
    steps: Annotated[list[StepIn], msgspec.Meta(max_length=20)] = []
    links: Annotated[list[LinkIn], msgspec.Meta(max_length=5)] = []


class ConsentIn(Struct):
    """A member's consent to the plan (given or withdrawn) on a day."""

    resident_id: Id
    given: bool
    on: date


# commands -------------------------------------------------------------------------------

class CreatePlan(Command):
    household_id: Id
    # The city social worker responsible: one deployed to the household's site (by default
    # the acting social worker herself).
    social_worker: Id | None = None
    next_review: date | None = None
    consent: Annotated[list[ConsentIn], msgspec.Meta(max_length=20)] = []
    goals: Annotated[list[GoalIn], msgspec.Meta(max_length=50)] = []


class AddGoal(Command):
    plan_id: Id
    goal: GoalIn


class AddStep(Command):
    goal_id: Id
    step: StepIn


class LinkGoal(Command):
    """Link a goal (or, with `step_id`, one of its steps) to a fact."""

    goal_id: Id
    step_id: Id | None = None
    link: LinkIn


class CompleteStep(Command):
    goal_id: Id
    step_id: Id


class SetGoalStatus(Command):
    goal_id: Id
    status: GoalStatus
    reason: StatusReason
    note: Note | None = None  # stays in this service


class RecordConsent(Command):
    plan_id: Id
    consent: ConsentIn


class RecordReview(Command):
    plan_id: Id
    on: date
    outcome: ReviewOutcome
    next_review: date | None = None


class ClosePlan(Command):
    plan_id: Id
    reason: CloseReason


class HandOverPlan(Command):
    """Hand a plan to another city social worker: one housing has deployed to the site
    the household lives at (any deployed one while it has no site)."""

    plan_id: Id
    social_worker: Id


class ReopenGoal(Command):
    """Take a dropped goal up again: its status follows its steps and facts once more."""

    goal_id: Id
    note: Note | None = None  # stays in this service


class GetPlan(Command):
    """One plan, by its id or by its household's (exactly one of them)."""

    plan_id: Id | None = None
    household_id: Id | None = None


class GetWorklist(Command):
    """Reviews due and goals past due as of `on` (today), for a site or a social worker
    (exactly one of them); a site's list also names its households without a plan."""

    site_id: Id | None = None
    social_worker: Id | None = None
    on: date | None = None
    # Paging (each list from `offset`, at most `limit`; all without) and a filter of the
    # overdue goals by field.
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] | None = None
    field: Field | None = None


class ListSocialWorkers(Command):
    """The city social workers deployed to a site (housing's deployments, as plans keeps
    them), by the site's id or by a household's (its site): whom a plan can be made for or
    handed over to. Exactly one of them."""

    site_id: Id | None = None
    household_id: Id | None = None


# replies --------------------------------------------------------------------------------

class FactRef(Struct):
    """The event that moved a goal or step: its type, id and time."""

    fact: FactKind
    type: str
    event_id: str
    time: str


class LinkView(Struct):
    link_id: str
    fact: FactKind
    subject: str  # the resident or household the fact must be about
    step_id: str | None = None
    level: Level | None = None
    phase: int | None = None
    placement_kind: PlacementKind | None = None
    topic: str | None = None


class StepView(Struct):
    step_id: str
    title: str
    responsible: Responsible
    due: date | None = None
    done: bool = False
    done_by: FactRef | None = None  # None when done by hand


class GoalView(Struct):
    goal_id: str
    resident_id: str | None
    field: Field
    title: str
    responsible: Responsible
    due: date | None
    set_on: date
    status: GoalStatus
    reason: StatusReason | None = None
    note: str | None = None
    reached_on: date | None = None
    reached_by: FactRef | None = None
    steps: list[StepView] = []
    links: list[LinkView] = []


class ReviewView(Struct):
    on: date
    by: str
    outcome: ReviewOutcome
    next_review: date | None = None


class ConsentView(Struct):
    resident_id: str
    given: bool
    on: date
    recorded_by: str


class MemberRef(Struct):
    resident_id: str


class PlanView(Reply):
    plan_id: str
    household_id: str
    site_id: str | None
    social_worker: str | None
    state: Literal["open", "closed"]  # (`status` is the reply's own tag)
    created_on: date
    next_review: date | None = None
    close_reason: CloseReason | None = None
    consent: list[ConsentView] = []
    reviews: list[ReviewView] = []
    goals: list[GoalView] = []
    members: list[MemberRef] = []  # the household's members, whom the plan is about


class ReviewDue(Struct):
    plan_id: str
    household_id: str
    due: date


class GoalDue(Struct):
    goal_id: str
    plan_id: str
    household_id: str
    resident_id: str | None
    field: Field
    due: date


class WorklistView(Reply):
    scope: Literal["site", "social_worker"]
    id: str
    on: date
    plans_open: int
    reviews_due: list[ReviewDue] = []
    overdue_goals: list[GoalDue] = []
    households_without_plan: list[str] = []
    # How many each list holds in all (the lists above are one page of them).
    reviews_due_total: int = 0
    overdue_goals_total: int = 0
    households_without_plan_total: int = 0


class SocialWorkers(Reply):
    """Staff ids (their user names), sorted; none where the household has no site."""

    site_id: str | None
    social_workers: list[str] = []


COMMANDS = (CreatePlan, AddGoal, AddStep, LinkGoal, CompleteStep, SetGoalStatus,
            RecordConsent, RecordReview, ClosePlan, HandOverPlan, ReopenGoal, GetPlan,
            GetWorklist, PlanView, WorklistView, ListSocialWorkers, SocialWorkers)
