"""The volunteers service's spec: every message it handles and the handler for it."""

from __future__ import annotations

from pymongo import IndexModel

from contracts import housing as hs
from contracts.counselling import ReferralRequested
from im_runtime import Handles, On, ServiceSpec, topic_is, views
from im_runtime.spec import Retention
from volunteers import (
    commands,
    erasure,
    leaving,
    matching,
    projection,
    queries,
    referrals,
    store,
)
from volunteers import contracts as c

# Default periods in days (IM_RETENTION_VOLUNTEERS_<NAME> overrides): a year after a match
# ended (time for a question about it, then its feedback goes), after a request for support
# was made (a resident still waiting is referred again), and after the resident left the
# city. Volunteers' own registrations are theirs to withdraw, not on a clock.
ONE_YEAR = 365

spec = ServiceSpec(
    name=c.SERVICE,
    version="1.0.0",
    description="Volunteer supporters: offers, capacity, matches with residents",
    publishes=c.EVENTS,
    consumes=(
        On(hs.SiteRegistered, handler=projection.on_site_registered),
        On(hs.ResidentRegistered, hs.ResidentCorrected, hs.ResidentPlaced,
           hs.ResidentTransferred,
           hs.ResidentMovedOut, handler=projection.on_resident, idempotent=True),
        On(ReferralRequested, where=topic_is(*matching.TOPICS),
           handler=referrals.on_referral_requested),
    ),
    commands=(
        Handles("register_volunteer", c.RegisterVolunteer, commands.register_volunteer,
                c.VolunteerView),
        Handles("retire_volunteer", c.RetireVolunteer, leaving.retire_volunteer,
                c.VolunteerView),
        Handles("get_volunteer", c.GetVolunteer, commands.get_volunteer, c.VolunteerView,
                read=True),
        Handles("list_volunteers", c.ListVolunteers, commands.list_volunteers, c.VolunteerPage,
                read=True),
        Handles("propose_match", c.ProposeMatch, commands.propose_match, c.MatchView),
        Handles("agree_match", c.AgreeMatch, commands.agree_match, c.MatchView),
        Handles("start_match", c.StartMatch, commands.start_match, c.MatchView),
        Handles("end_match", c.EndMatch, commands.end_match, c.MatchView),
    ),
    queries=views(queries.resident_overview, queries.site_overview, queries.city_stats),
    # audited by the gateway
    personal_reads={"get_volunteer": "volunteer_id", "list_volunteers": "volunteer_id"},
    indexes={
        store.VOLUNTEERS: [],
        store.MATCHES: [IndexModel("resident_id"), IndexModel("volunteer_id")],
        store.REQUESTS: [IndexModel("resident_id"), IndexModel("open")],
        store.RESIDENTS: [IndexModel("site_id")],
        store.SITES: [],
    },
    erase=erasure.erase,
    # Answered with the shared referral contract (contracts.referrals).
    referral_topics=matching.TOPICS,
    retention=(
        Retention("matches", store.MATCHES, "ended_at", ONE_YEAR, where={"state": "ended"}),
        Retention("requests", store.REQUESTS, "requested_on", ONE_YEAR, stored="date"),
        # volunteers who stopped: their registration, and then their events (privacy)
        Retention("former_volunteers", store.VOLUNTEERS, "left_at", ONE_YEAR,
                  forgets="_id", person="volunteer"),
        Retention("residents", store.RESIDENTS, "left_city_at", ONE_YEAR),
    ),
)
