"""Events that come out of order or twice leave the same plans: every order of a set of
facts (with the link that waits for one of them made at every point between), each
delivered twice, ends in the same documents; so does every order of housing's moves."""

from __future__ import annotations

import itertools
from datetime import date
from typing import Any

import pytest

from contracts import Actor, wrap
from contracts.education import EnrolmentCompleted
from contracts.employment import ParticipantMovedToNextPhase, PlacementRecorded
from contracts.housing import MoveOutCaseAdvanced, MoveOutCaseClosed, ResidentMovedOut
from contracts.housing import ResidentTransferred as Moved
from im_runtime.memory import MemoryStore
from plans import commands, progress, projection
from plans import contracts as c

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")
ME = c.Responsible(party="social_worker", id="sw-01")
KEPT = ("plans", "links", "facts", "households", "residents", "worklists", "stats")


def state(store: MemoryStore) -> dict[str, Any]:
    return {name: {id: {k: v for k, v in doc.items() if k != "_v"}
                   for id, doc in store.collections.get(name, {}).items()}
            for name in KEPT}


def facts(helpers: Any) -> list[Any]:
    t = helpers.t
    course = {"enrolment_id": "e1", "course_id": "k1", "course_kind": "integration_course",
              "passed": True}
    data = [
        ("education", EnrolmentCompleted(resident_id="r1", certificate_level="A2", **course)),
        ("education", EnrolmentCompleted(resident_id="r1", certificate_level="B1", **course)),
        ("employment", ParticipantMovedToNextPhase(
            resident_id="r2", participation_id="p1", programme_id="pr", phase=2,
            from_phase=1, status="registered")),
        ("employment", PlacementRecorded(
            resident_id="r2", participation_id="p1", programme_id="pr", phase=2,
            placement_id="pl1", kind="job", sector="care", starts=date(2026, 5, 1),
            hours=30)),
        ("housing", MoveOutCaseAdvanced(resident_id="r1", case_id="mc1", household_id="h1",
                                        from_stage="moving", stage="moved_out")),
        ("housing", MoveOutCaseClosed(resident_id="r1", case_id="mc1", household_id="h1",
                                      outcome="moved_out")),
    ]
    return [wrap(d, source=s, time=t(1000 + 10 * i)) for i, (s, d) in enumerate(data)]


async def a_plan(store: MemoryStore, helpers: Any) -> Any:
    await helpers.household(store, "h1", ["r1", "r2"])
    return await store.run(commands.create_plan, c.CreatePlan(
        actor=ADMIN, household_id="h1", command_id="create", goals=[
            c.GoalIn(resident_id="r1", field="language", title="Deutsch B1", responsible=ME,
                     steps=[c.StepIn(title="A2", responsible=ME, link=c.LinkIn(
                         fact="language_course_completed", level="A2"))],
                     links=[c.LinkIn(fact="language_course_completed", level="B1")]),
            c.GoalIn(resident_id="r2", field="work", title="Arbeit", responsible=ME,
                     steps=[c.StepIn(title="Phase 1", responsible=ME, link=c.LinkIn(
                         fact="programme_phase_completed", phase=1))],
                     links=[c.LinkIn(fact="placement", placement_kind="job")]),
            c.GoalIn(field="housing", title="Wohnung", responsible=ME)]))


async def test_every_order_of_facts_and_the_late_link_twice_ends_the_same(helpers):
    events = facts(helpers)
    link = "link"
    want: dict[str, Any] | None = None
    orders = list(itertools.permutations([*range(len(events) - 1), link]))
    for order in orders:
        store = MemoryStore("plans")
        view = await a_plan(store, helpers)
        housing = view.goals[2].goal_id
        for again in (False, True):  # every event delivered twice
            for item in order:
                if item != link:
                    await store.handle(progress.on_fact, events[item])  # type: ignore[index]
                elif not again:  # a command again is answered from its stored reply
                    await store.handle(commands.link_goal, c.LinkGoal(
                        actor=ADMIN, goal_id=housing, link=c.LinkIn(fact="moved_out")))
        await store.handle(progress.on_fact, events[-1])
        got = state(store)
        if want is None:
            want = got
            goals = got["plans"][view.plan_id]["goals"]
            assert [g["status"] for g in goals] == ["reached"] * 3
            assert goals[0]["reached_by"]["type"] == "im.education.enrolment_completed.v1"
            assert goals[2]["reached_by"]["event_id"] == events[4].id
        assert got == want, order
    assert len(orders) == 720


async def test_every_order_of_housings_moves_twice_ends_the_same(helpers):
    t = helpers.t
    moves = [
        Moved(resident_id="r1", household_id="h1", from_site_id="s1", site_id="s2",
              moved_on=date(2026, 4, 1)),
        Moved(resident_id="r2", household_id="h1", from_site_id="s1", site_id="s2",
              moved_on=date(2026, 4, 1)),
        Moved(resident_id="r1", household_id="h1", from_site_id="s2", site_id="s3",
              moved_on=date(2026, 5, 1)),
        ResidentMovedOut(resident_id="r2", household_id="h1", site_id="s3",
                         reason="own_flat", moved_out=date(2026, 6, 1)),
        ResidentMovedOut(resident_id="r1", household_id="h1", site_id="s3",
                         reason="own_flat", moved_out=date(2026, 6, 1)),
    ]
    events = [wrap(m, source="housing", time=t(2000 + 10 * i)) for i, m in enumerate(moves)]
    want: dict[str, Any] | None = None
    for order in itertools.permutations(range(len(events))):
        store = MemoryStore("plans")
        await a_plan(store, helpers)
        for _ in range(2):
            for i in order:
                await store.handle(projection.on_resident, events[i])
        got = state(store)
        if want is None:
            want = got
            (plan,) = got["plans"].values()
            assert plan["site_id"] is None and got["households"]["h1"]["site_id"] is None
            assert got["worklists"] == {}  # moved out: on no site's list
            assert got["stats"]["city"]["households"] == 0
        assert got == want, order


async def test_every_order_of_deployments_twice_ends_with_the_latest(helpers):
    from contracts.housing import StaffAssigned

    events = [wrap(StaffAssigned(staff_id="sw-01", site_ids=sites), source="housing",
                   time=helpers.t(i)) for i, sites in enumerate((["s1"], ["s2", "s1"], ["s3"]))]
    for order in itertools.permutations(range(3)):
        store = MemoryStore("plans")
        for i in [*order, *order]:
            await store.handle(projection.on_staff_assigned, events[i])
        assert store.collections["staff"]["sw-01"]["sites"] == ["s3"], order
