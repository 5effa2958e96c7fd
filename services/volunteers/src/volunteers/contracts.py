"""The volunteers service's own messages, built on the platform's bases.

A plugin from a third party cannot add to the shared `contracts` package, so it carries
its contracts here; the services it listens to speak only shared contracts (housing's
resident events, counselling's `ReferralRequested`, the scatter-gather queries). The
same rules hold: versioned type names, append-only evolution, stored examples decoded
by a test (`services/volunteers/examples/`)."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated, Literal

import msgspec

from contracts import Command, EventData, Reply
from contracts.referrals import ServiceReferralAccepted, ServiceReferralRejected

SERVICE = "volunteers"

Id = Annotated[str, msgspec.Meta(pattern=r"^[A-Za-z0-9_-]{1,64}$")]
Language = Annotated[str, msgspec.Meta(pattern=r"^[a-z]{2,3}$")]
Short = Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
Offer = Literal["language_tandem", "accompaniment", "homework_help", "mentoring",
                "moving_help"]
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MatchState = Literal["proposed", "agreed", "active", "ended"]
Outcome = Literal["completed", "declined", "cancelled", "moved_away"]
Capacity = Annotated[int, msgspec.Meta(ge=0, le=20)]
Rating = Annotated[int, msgspec.Meta(ge=1, le=5)]


class _AboutResident(EventData):
    resident_id: Id

    def resident_key(self) -> str | None:
        return self.resident_id


# events ---------------------------------------------------------------------------------

class VolunteerRegistered(EventData,
                          tag="im.volunteers.volunteer_registered.v1"):
    """No name or contact data: those stay in the volunteers' own registry."""

    volunteer_id: Id
    languages: list[Language]
    skills: list[Short] = []
    districts: list[Short]
    availability: list[Weekday] = []
    offers: list[Offer]
    capacity: Capacity
    background_check_on: date | None = None


class SupportRequested(_AboutResident,
                       tag="im.volunteers.support_requested.v1"):
    """A resident waits for a volunteer (no one fitted when the referral came)."""

    request_id: Id
    referral_id: str | None = None


class MatchProposed(_AboutResident,
                    tag="im.volunteers.match_proposed.v1"):
    match_id: Id
    volunteer_id: Id
    offer: Offer
    request_id: Id | None = None
    referral_id: str | None = None


class MatchAgreed(_AboutResident,
                  tag="im.volunteers.match_agreed.v1"):
    match_id: Id
    volunteer_id: Id


class MatchStarted(_AboutResident,
                   tag="im.volunteers.match_started.v1"):
    match_id: Id
    volunteer_id: Id


class MatchEnded(_AboutResident, tag="im.volunteers.match_ended.v1"):
    match_id: Id
    volunteer_id: Id
    was: MatchState
    outcome: Outcome
    rating: Rating | None = None


# Its referral answers before the shared contract (contracts.referrals): no longer
# published, kept so that stored logs still decode.
class VolunteersReferralAccepted(ServiceReferralAccepted,
                                 tag="im.volunteers.referral_accepted.v1"):
    pass


class VolunteersReferralRejected(ServiceReferralRejected,
                                 tag="im.volunteers.referral_rejected.v1"):
    pass


EVENTS: tuple[type[EventData], ...] = (
    VolunteerRegistered, SupportRequested, MatchProposed, MatchAgreed, MatchStarted,
    MatchEnded, VolunteersReferralAccepted, VolunteersReferralRejected)


# commands and replies -------------------------------------------------------------------

class RegisterVolunteer(Command):
    volunteer_id: Id
    name: Short
    languages: list[Language] = msgspec.field(default_factory=list)
    skills: list[Short] = []
    districts: list[Short]
    availability: list[Weekday] = []
    offers: list[Offer]
    capacity: Capacity = 1
    background_check_on: date | None = None


class GetVolunteer(Command):
    volunteer_id: Id


class RetireVolunteer(Command):
    """The volunteer stops (no new tandems; retention removes them a year later)."""

    volunteer_id: Id


class ListVolunteers(Command):
    """Volunteers by what they offer and where, those with a free place first when
    `free_only`; paged."""

    offer: Offer | None = None
    district: Short | None = None
    free_only: bool = False
    offset: Annotated[int, msgspec.Meta(ge=0)] = 0
    limit: Annotated[int, msgspec.Meta(ge=1, le=500)] = 50


class ProposeMatch(Command):
    volunteer_id: Id
    resident_id: Id
    offer: Offer
    request_id: Id | None = None


class AgreeMatch(Command):
    match_id: Id


class StartMatch(Command):
    match_id: Id


class EndMatch(Command):
    match_id: Id
    outcome: Outcome
    rating: Rating | None = None
    # Free text stays in this service: never in an event.
    feedback: Annotated[str, msgspec.Meta(max_length=2000)] | None = None


class VolunteerView(Reply):
    volunteer_id: str
    name: str
    languages: list[str]
    skills: list[str]
    districts: list[str]
    availability: list[str]
    offers: list[str]
    capacity: int
    load: int
    background_check_on: date | None = None
    matches: list[str] = []
    left_at: datetime | None = None


class MatchView(Reply):
    match_id: str
    volunteer_id: str
    resident_id: str
    offer: str
    state: MatchState
    outcome: str | None = None
    rating: int | None = None


class VolunteerPage(Reply):
    items: list[VolunteerView]
    total: int
    offset: int
    limit: int


COMMANDS = (RegisterVolunteer, GetVolunteer, ProposeMatch, AgreeMatch, StartMatch, EndMatch,
            VolunteerView, MatchView, ListVolunteers, VolunteerPage)
