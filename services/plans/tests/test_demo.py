"""Plans' part of the demo city, at the seed's scale, against the in-memory store: every
planned household's plan is accepted, and the facts the demo's services report (its
enrolments and the spring course's results, its programme's active phase and placements,
its move-outs)
move the plans forward."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
import pytest

from contracts import Actor
from contracts.education import EnrolmentCompleted, EnrolmentConfirmed
from contracts.employment import ParticipantActivated, PlacementRecorded
from contracts.housing import (
    MoveOutCaseClosed,
    MoveOutCaseOpened,
    ResidentPlaced,
    ResidentRegistered,
    StaffAssigned,
)
from contracts.queries import GetCityStats
from im_cli.demo import hooks
from im_cli.demo.city import build
from im_runtime.memory import MemoryStore
from plans import commands, progress, projection, queries
from plans.demo import chosen

pytestmark = pytest.mark.unit
AT = datetime(2026, 11, 1, tzinfo=UTC)


class FakeSeeder:
    """The part of im_cli.demo.seed.Seeder a hook uses, on the in-memory store."""

    def __init__(self, store: MemoryStore, city: Any) -> None:
        self.store, self.city, self.sent = store, city, 0

    async def settle(self, pairs: Any, timeout: float = 120) -> None:
        pass

    async def each(self, label: str, jobs: Any) -> list[Any]:
        return [await job for job in jobs]

    async def command(self, service: str, name: str, key: str, cmd: Any) -> Any:
        assert (service, name) == ("plans", "create_plan")
        cmd = msgspec.structs.replace(cmd, command_id=f"demo:{name}:{key}",
                                      actor=Actor(subject="demo-seeder", role="city_admin"))
        self.sent += 1
        return await self.store.run(commands.create_plan, cmd)


async def test_the_demo_plans_at_the_seeds_scale_move_with_the_demos_facts():
    city, store = build(), MemoryStore("plans")
    for h in city.households:
        for p in h.members:
            await store.feed(projection.on_resident, ResidentRegistered(
                resident_id=p.id, household_id=h.id, birth_year=p.birth_year,
                residence_status=p.status, arrival_date=p.arrived), "housing", AT)
            await store.feed(projection.on_resident, ResidentPlaced(
                resident_id=p.id, household_id=h.id, site_id=h.site, moved_in=p.arrived),
                "housing", AT)
    for staff, _, sites in city.staff:
        await store.feed(projection.on_staff_assigned, StaffAssigned(
            staff_id=staff, site_ids=sites), "housing", AT)
    # what the demo's services report before the hook runs
    for i, (course, rid) in enumerate(city.enrolments):
        await store.feed(progress.on_fact, EnrolmentConfirmed(
            resident_id=rid, enrolment_id=f"e{i}", course_id=course,
            course_kind="integration_course"), "education", AT)
    for i, (course, rid, level) in enumerate(city.results):
        await store.feed(progress.on_fact, EnrolmentCompleted(
            resident_id=rid, enrolment_id=f"done{i}", course_id=course,
            course_kind="integration_course", passed=level is not None,
            certificate_level=level), "education", AT)  # type: ignore[arg-type]
    for rid in city.phase_1:
        await store.feed(progress.on_fact, ParticipantActivated(
            resident_id=rid, participation_id=f"p-{rid}", programme_id="bp", phase=1),
            "employment", AT)
    for rid, kind, sector, starts, hours in city.placements:
        await store.feed(progress.on_fact, PlacementRecorded(
            resident_id=rid, participation_id=f"p-{rid}", programme_id="bp", phase=1,
            placement_id=f"pl-{rid}", kind=kind, sector=sector, starts=starts,  # type: ignore[arg-type]
            hours=hours), "employment", AT)
    for hid in city.move_outs:
        await store.feed(progress.on_fact, MoveOutCaseOpened(
            resident_id="x", case_id=f"c-{hid}", household_id=hid), "housing", AT)
    for hid in city.moved_out:
        await store.feed(progress.on_fact, MoveOutCaseClosed(
            resident_id="x", case_id=f"c-{hid}", household_id=hid, outcome="moved_out"),
            "housing", AT)

    (_, hook), = hooks.installed(["plans", "housing"])  # found by the demo, unnamed
    seeder = FakeSeeder(store, city)
    assert hook.size(city) == len(chosen(city))
    await hook.seed(seeder)
    assert seeder.sent == len(chosen(city)) > len(city.households) / 2

    stats = await store.ask(queries.city_stats, GetCityStats())
    assert stats["plans"] == {"open": seeder.sent, "closed": 0}
    assert stats["households_without_plan"] == len(city.households) - seeder.sent
    goals = stats["goals_by_field"]
    assert goals["housing"]["reached"] == len(city.moved_out)
    assert goals["housing"]["in_progress"] == len(city.move_outs) - len(city.moved_out)
    enrolled = {rid for _, rid in city.enrolments}
    planned = [p for h in chosen(city) for p in h.members if p.birth_year <= 2006]
    assert goals["language"]["in_progress"] > 0
    # the spring course: B1 reaches the goal; an A2 certificate is a step done
    assert goals["language"]["reached"] == sum(level == "B1" for _, _, level in city.results)
    assert goals["language"]["in_progress"] <= len(enrolled & {p.id for p in planned})
    # phase 1 joined (a step done); a job or a training reaches the goal, an internship not
    in_phase_1 = set(city.phase_1) & {p.id for p in planned}
    reached = {rid for rid, kind, *_ in city.placements if kind != "internship"}
    assert reached <= in_phase_1 and reached
    assert goals["work"]["reached"] == len(reached)
    assert goals["work"]["in_progress"] == len(in_phase_1 - reached)
    assert goals["education"] == {"open": goals["education"]["open"]}  # no Kita places
