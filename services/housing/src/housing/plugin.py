"""The housing service's spec: every message it handles and the handler for it."""

from __future__ import annotations

from pymongo import IndexModel

from contracts import housing as ev
from contracts import housing_commands as cmd
from contracts._base import Ack
from contracts.counselling import ReferralRequested
from housing import (
    caseviews,
    erasure,
    export,
    followups,
    households,
    moveout,
    placements,
    queries,
    rectify,
    referrals,
    residents,
    sites,
    staff,
    store,
)
from im_runtime import Handles, On, ServiceSpec, topic_is, views
from im_runtime.spec import Retention

# Retention defaults: three years after the matter ended (issue #9); the city sets its
# own periods where it runs housing, IM_RETENTION_HOUSING_<NAME> in days. Anonymous
# stand-ins of erased residents hold nothing personal and stay for the statistics.
THREE_YEARS = 1095
PEOPLE = store.PEOPLE_ONLY
RETENTION = (
    # a move-out case, three years after it closed (moved out or cancelled)
    Retention("closed_cases", store.CASES, after="closed_at", days=THREE_YEARS,
              where={**PEOPLE, "open": False}),
    # a resident's record and their household, three years after they moved out; with the
    # record (the registry's, keyed by the resident), every message about them leaves the log
    Retention("moved_out_residents", store.RESIDENTS, after="moved_out_on",
              days=THREE_YEARS, where=PEOPLE, stored="date", forgets="_id"),
    Retention("moved_out_households", store.HOUSEHOLDS, after="moved_out_on",
              days=THREE_YEARS, stored="date"),
    # an emergency over-filling of a site, three years after the placement
    Retention("overrides", store.OVERRIDES, after="on", days=THREE_YEARS, where=PEOPLE,
              stored="date"),
    # a social worker deployed to no site any more (she left, staff.py), three years on;
    # her deployment's events leave the log with it (privacy's expiries)
    Retention("former_staff", store.STAFF, after="ended_at", days=THREE_YEARS,
              forgets="_id", person="staff"),
)

spec = ServiceSpec(
    name=ev.SERVICE,
    version="1.0.0",
    description="Sites, resident registry, placements, staff deployment, move-out management",
    publishes=(ev.SiteRegistered, ev.SiteCapacityChanged, ev.ResidentRegistered,
               ev.ResidenceStatusChanged, ev.ResidentPlaced, ev.ResidentTransferred,
               ev.ResidentMovedOut, ev.ResidentCorrected, ev.StaffAssigned,
               ev.MoveOutCaseOpened,
               ev.MoveOutCaseAdvanced, ev.MoveOutCaseClosed, ev.OfferRecorded,
               ev.ViewingRecorded),
    # Answered with the shared referral contract (contracts.referrals).
    referral_topics=referrals.TOPICS,
    consumes=(On(ReferralRequested, where=topic_is(*referrals.TOPICS),
                 handler=referrals.on_referral_requested),),
    commands=(
        Handles("register_site", cmd.RegisterSite, sites.register_site, cmd.SiteView),
        Handles("change_site_capacity", cmd.ChangeSiteCapacity, sites.change_capacity,
                cmd.SiteView),
        Handles("list_sites", cmd.ListSites, sites.list_sites, cmd.SitePage, read=True),
        Handles("register_resident", cmd.RegisterResident, residents.register_resident,
                cmd.ResidentRecord),
        Handles("change_residence_status", cmd.ChangeResidenceStatus, residents.change_status,
                cmd.ResidentRecord),
        Handles("get_resident", cmd.GetResident, residents.get_resident, cmd.ResidentRecord,
                read=True),
        Handles("list_residents", cmd.ListResidents, residents.list_residents,
                cmd.ResidentPage, read=True),
        Handles("place_household", cmd.PlaceHousehold, placements.place_household, cmd.Placed),
        # rectification (Art. 16 GDPR): each with ResidentCorrected
        Handles("correct_resident", cmd.CorrectResident, rectify.correct_resident,
                cmd.ResidentRecord),
        Handles("move_member", cmd.MoveMember, rectify.move_member, cmd.HouseholdView),
        Handles("split_household", cmd.SplitHousehold, rectify.split_household,
                cmd.HouseholdView),
        Handles("merge_households", cmd.MergeHouseholds, rectify.merge_households,
                cmd.HouseholdView),
        Handles("register_household", cmd.RegisterHousehold, households.register_household,
                cmd.HouseholdView, order_by=households.contended),
        Handles("move_out_household", cmd.MoveOutHousehold, placements.move_out_household,
                cmd.Placed),
        Handles("assign_staff", cmd.AssignStaff, staff.assign_staff, Ack),
        Handles("get_staff", cmd.GetStaff, staff.get_staff, cmd.StaffView, read=True),
        Handles("open_move_out_case", cmd.OpenMoveOutCase, moveout.open_move_out_case,
                cmd.CaseView),
        Handles("advance_move_out_case", cmd.AdvanceMoveOutCase, moveout.advance, cmd.CaseView),
        Handles("set_search_criteria", cmd.SetSearchCriteria, moveout.set_criteria,
                cmd.CaseView),
        Handles("record_offer", cmd.RecordOffer, moveout.record_offer, cmd.CaseView),
        Handles("record_viewing", cmd.RecordViewing, moveout.record_viewing, cmd.CaseView),
        Handles("get_move_out_case", cmd.GetMoveOutCase, caseviews.get_move_out_case,
                cmd.CaseDetail, read=True),
        Handles("list_move_out_cases", cmd.ListMoveOutCases, caseviews.list_move_out_cases,
                cmd.CasePage, read=True),
        Handles("list_due_follow_ups", cmd.ListDueFollowUps, followups.list_due_follow_ups,
                cmd.FollowUpPage, read=True),
        Handles("tick_moving_help", cmd.TickMovingHelp, moveout.tick_help, cmd.CaseView),
    ),
    queries=views(queries.resident_overview, queries.site_overview, queries.city_stats),
    # Audited by the gateway on every route (the field naming the person).
    personal_reads={"get_resident": "resident_id", "list_residents": "resident_id",
                    "get_move_out_case": "resident_id", "list_move_out_cases": "resident_id",
                    "list_due_follow_ups": "resident_id"},
    indexes={
        store.RESIDENTS: [IndexModel("site_id"), IndexModel("household_id"),
                          IndexModel("family_name")],
        store.SITES: [IndexModel("kind"), IndexModel("operator_id")],
        store.CASES: [IndexModel("site_id"), IndexModel("open"), IndexModel("stage"),
                      IndexModel("since")],
        store.HOUSEHOLDS: [], store.STAFF: [], store.OVERRIDES: [IndexModel("site_id")],
    },
    erase=erasure.erase,
    export=export.export,
    retention=RETENTION,
)
