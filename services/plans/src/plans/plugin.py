"""The plans service's spec: every message it handles and the handler for it."""

from __future__ import annotations

from pymongo import IndexModel

from contracts.housing import StaffAssigned
from im_runtime import Handles, On, ServiceSpec, views
from im_runtime.spec import Retention
from plans import commands, erasure, facts, progress, projection, queries, reads, store
from plans import contracts as c

# Default periods in days (IM_RETENTION_PLANS_<NAME> overrides): three years after a plan
# was closed, after a fact was last reported, after the household left the city.
THREE_YEARS = 1095

spec = ServiceSpec(
    name=c.SERVICE,
    version="1.0.0",
    description="Integration plans: goals per household and member, moved by others' events",
    publishes=c.EVENTS,
    consumes=(
        On(*projection.CONSUMES, handler=projection.on_resident, idempotent=True),
        On(StaffAssigned, handler=projection.on_staff_assigned, idempotent=True),
        # Each link keeps the earliest matching fact, and a fact is kept once per event id:
        # the same plans whatever order or how often (tests/test_orders.py).
        On(*facts.TYPES, handler=progress.on_fact, idempotent=True),
    ),
    commands=(
        Handles("create_plan", c.CreatePlan, commands.create_plan, c.PlanView),
        Handles("add_goal", c.AddGoal, commands.add_goal, c.PlanView),
        Handles("add_step", c.AddStep, commands.add_step, c.PlanView),
        Handles("link_goal", c.LinkGoal, commands.link_goal, c.PlanView),
        Handles("complete_step", c.CompleteStep, commands.complete_step, c.PlanView),
        Handles("set_goal_status", c.SetGoalStatus, commands.set_goal_status, c.PlanView),
        Handles("record_consent", c.RecordConsent, commands.record_consent, c.PlanView),
        Handles("record_review", c.RecordReview, commands.record_review, c.PlanView),
        Handles("close_plan", c.ClosePlan, commands.close_plan, c.PlanView),
        Handles("hand_over_plan", c.HandOverPlan, commands.hand_over_plan, c.PlanView),
        Handles("reopen_goal", c.ReopenGoal, commands.reopen_goal, c.PlanView),
        # Reads: answered from memory, nothing stored.
        Handles("get_plan", c.GetPlan, reads.get_plan, c.PlanView, read=True),
        Handles("get_worklist", c.GetWorklist, reads.get_worklist, c.WorklistView,
                read=True),
        Handles("list_social_workers", c.ListSocialWorkers, reads.list_social_workers,
                c.SocialWorkers, read=True),
    ),
    queries=views(queries.resident_overview, queries.site_overview, queries.city_stats),
    indexes={
        store.PLANS: [IndexModel("household_id"), IndexModel("status")],
        store.LINKS: [IndexModel("key"), IndexModel("subject")],
        store.FACTS: [IndexModel("subject")],
        store.RESIDENTS: [IndexModel("household_id")],
        store.HOUSEHOLDS: [],
        store.WORKLISTS: [],
        store.STATS: [],
        store.STAFF: [IndexModel("sites")],
    },
    # Replies naming the household's members (get_plan lists them all) or the residents
    # whose goals are overdue: the gateway audits each read for each of them.
    personal_reads={"get_plan": "resident_id", "get_worklist": "resident_id"},
    erase=erasure.erase,
    retention=(
        Retention("closed_plans", store.PLANS, "closed_on", THREE_YEARS,
                  where={"status": "closed"}, stored="date"),
        Retention("facts", store.FACTS, "last_on", THREE_YEARS, stored="date"),
        Retention("residents", store.RESIDENTS, "left_city_on", THREE_YEARS, stored="date"),
        Retention("households", store.HOUSEHOLDS, "left_city_on", THREE_YEARS,
                  stored="date"),
    ),
)
