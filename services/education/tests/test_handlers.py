"""Education's handlers against the in-memory store: enrolment rules with their events,
the optimistic version check on the course document, referrals and housing events."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from contracts import Actor, wrap
from contracts import education as ev
from contracts import education_commands as c
from contracts import referrals as rf
from contracts.counselling import ReferralRequested
from contracts.housing import (
    ResidentMovedOut,
    ResidentPlaced,
    ResidentRegistered,
    SiteRegistered,
)
from contracts.queries import GetResidentOverview
from education import (
    attendance,
    courses,
    enrolment,
    language,
    projection,
    queries,
    referrals,
    store,
)
from im_runtime import Forbidden
from im_runtime.errors import ConcurrencyConflict
from im_runtime.memory import MemoryStore

pytestmark = pytest.mark.unit

ADMIN = Actor(subject="admin-1", role="city_admin")
VHS = Actor(subject="p1", role="provider", provider="vhs")
run = MemoryStore.handle


async def new_course(mem: MemoryStore, capacity: int = 2, kind: str = "arrival_course",
                     course_id: str = "c1", site: str = "s1") -> None:
    await run(mem, courses.create_course, c.CreateCourse(
        actor=VHS, course_id=course_id, kind=kind, title="Ankommenskurs",
        level="A1" if kind == "integration_course" else None,
        provider="adult_education_centre", site_id=site, starts=date(2026, 3, 2),
        ends=date(2026, 6, 26), capacity=capacity, childcare_places=1))


async def enrol(mem: MemoryStore, rid: str, course_id: str = "c1",
                children: list[str] | None = None) -> tuple[c.EnrolmentView, list[Any]]:
    return await run(mem, enrolment.enrol, c.Enrol(actor=ADMIN, course_id=course_id,
                                                  resident_id=rid, children=children or []))


async def test_enrol_withdraw_promote_with_events():
    mem = MemoryStore("education")
    await new_course(mem)
    views = [await enrol(mem, f"r{i}") for i in range(4)]
    assert [(v.state, v.position) for v, _ in views] == [
        ("confirmed", None), ("confirmed", None), ("waitlisted", 1), ("waitlisted", 2)]
    assert [type(e[0]) for _, e in views] == [ev.EnrolmentConfirmed, ev.EnrolmentConfirmed,
                                              ev.EnrolmentWaitlisted, ev.EnrolmentWaitlisted]
    first = views[0][0].enrolment_id
    gone, events = await run(mem, enrolment.withdraw, c.Withdraw(
        actor=ADMIN, enrolment_id=first, reason="moved away"))
    assert gone.state == "withdrawn"
    assert [type(e) for e in events] == [ev.EnrolmentWithdrawn, ev.EnrolmentPromoted]
    assert events[1].resident_id == "r2" and events[1].course_kind == "arrival_course"
    promoted = mem.collections[store.ENROLMENTS][views[2][0].enrolment_id]
    assert promoted["status"] == "confirmed"
    waiting, _ = await run(mem, enrolment.get_enrolment, c.GetEnrolment(
        actor=ADMIN, enrolment_id=views[3][0].enrolment_id))
    assert waiting.position == 1


async def test_cancel_releases_everyone_with_an_event_each():
    mem = MemoryStore("education")
    await new_course(mem)
    for i in range(3):
        await enrol(mem, f"r{i}", children=["k0"] if i == 0 else [])
    view, events = await run(mem, courses.cancel_course, c.CancelCourse(
        actor=VHS, course_id="c1", reason="no teacher"))
    assert (view.state, view.confirmed, view.waitlisted) == ("cancelled", 0, 0)
    withdrawn = [e for e in events if isinstance(e, ev.EnrolmentWithdrawn)]
    assert [(e.resident_id, e.was) for e in withdrawn] == [
        ("r0", "confirmed"), ("r1", "confirmed"), ("r2", "waitlisted")]
    assert all("no teacher" in e.reason for e in withdrawn)
    assert any(isinstance(e, ev.ChildcareReleasedV2) for e in events)
    assert isinstance(events[-1], ev.CourseCancelled)
    assert {d["status"] for d in mem.collections[store.ENROLMENTS].values()} == {"withdrawn"}


async def test_two_racing_enrolments_conflict_on_the_course_version():
    mem = MemoryStore("education")
    await new_course(mem, capacity=1)
    a, b = mem.unit_of_work("education"), mem.unit_of_work("education")
    await enrolment.enrol(c.Enrol(actor=ADMIN, course_id="c1", resident_id="ra"), a)
    await enrolment.enrol(c.Enrol(actor=ADMIN, course_id="c1", resident_id="rb"), b)
    await a.commit()
    with pytest.raises(ConcurrencyConflict):
        await b.commit()  # both saw a free seat; only the first may take it
    assert len(mem.collections[store.COURSES]["c1"]["seats"]) == 1


async def test_a_provider_works_on_its_own_courses_only():
    mem = MemoryStore("education")
    await new_course(mem)
    other = Actor(subject="p2", role="provider", provider="caritas")
    for handler, msg in [
        (courses.change_course, c.ChangeCourse(actor=other, course_id="c1", capacity=5)),
        (courses.cancel_course, c.CancelCourse(actor=other, course_id="c1", reason="why not")),
        (enrolment.enrol, c.Enrol(actor=other, course_id="c1", resident_id="r1")),
    ]:
        with pytest.raises(Forbidden):
            await mem.run(handler, msg)
    view, _ = await enrol(mem, "r1")
    done, events = await run(mem, attendance.complete_enrolment, c.CompleteEnrolment(
        actor=VHS, enrolment_id=view.enrolment_id, passed=True))
    assert done.state == "completed" and isinstance(events[0], ev.EnrolmentCompleted)


def referral(rid: str, ref: str, topic: str) -> Any:
    return wrap(ReferralRequested(referral_id=ref, resident_id=rid, operator_id="op1",
                                  site_id="s1", topic=topic, requested_on=date(2026, 3, 2)),
                source="counselling")


async def test_referrals_enrol_open_requests_or_are_rejected():
    mem = MemoryStore("education")
    _, events = await run(mem, referrals.on_referral_requested,
                          referral("r1", "f1", "language_course"))
    assert isinstance(events[0], rf.ReferralRejected)
    await new_course(mem, capacity=1, course_id="far", site="s9")
    await new_course(mem, capacity=1, course_id="near", site="s1")
    _, events = await run(mem, referrals.on_referral_requested,
                          referral("r2", "f2", "language_course"))
    assert [type(e) for e in events] == [ev.EnrolmentConfirmed, rf.ReferralAccepted]
    assert events[0].course_id == "near"  # a free seat at the resident's site first
    _, again = await run(mem, referrals.on_referral_requested,
                         referral("r2", "f2", "language_course"))
    assert again == []  # the same referral is answered once
    for rid, year, expected in (("k1", 2023, "kita"), ("k2", 2016, "school")):
        await run(mem, projection.on_resident_registered, wrap(ResidentRegistered(
            resident_id=rid, household_id="h", birth_year=year,
            residence_status="tolerated", arrival_date=date(2026, 1, 1)), source="housing"))
        _, events = await run(mem, referrals.on_referral_requested,
                              referral(rid, f"k-{rid}", "kita_school"))
        assert isinstance(events[0], ev.AccessRequestOpened) and events[0].kind == expected
    _, events = await run(mem, referrals.on_referral_requested, referral("k9", "k9", "kita_school"))
    assert "year of birth" in events[0].reason
    # another service's topic: no route of education's takes it (the spec's `where`)
    from education.plugin import spec

    assert spec.router()(referral("r1", "v", "volunteers")) is None
    assert spec.router()(referral("r1", "l", "language_course")) is referrals.on_referral_requested


async def test_housing_moves_keep_enrolments_and_follow_the_site():
    mem = MemoryStore("education")
    await new_course(mem)
    view, _ = await enrol(mem, "r1")
    await run(mem, projection.on_resident_moved, wrap(ResidentPlaced(
        resident_id="r1", household_id="h", site_id="s7", moved_in=date(2026, 3, 2)),
        source="housing"))
    assert mem.collections[store.ENROLMENTS][view.enrolment_id]["site_id"] == "s7"
    await run(mem, projection.on_resident_moved, wrap(ResidentMovedOut(
        resident_id="r1", household_id="h", site_id="s7", reason="own_flat",
        moved_out=date(2026, 5, 1)), source="housing"))
    section = await mem.ask(queries.resident_overview, GetResidentOverview(resident_id="r1"))
    assert section is not None and section["site_id"] is None
    assert [e["status"] for e in section["enrolments"]] == ["confirmed"]


async def test_who_waits_for_a_language_course():
    """Adults at a site with no language-course seat (nor an integration course passed),
    or on a waitlist; by site and district, a social worker's sites only."""
    mem = MemoryStore("education")
    for site, district in (("s1", "List"), ("s2", "Linden")):
        await run(mem, projection.on_site_registered, wrap(SiteRegistered(
            site_id=site, kind="shelter", name=site, district=district, capacity=9),
            source="housing"))
    people = {"adult": ("s1", 1990), "child": ("s1", date.today().year - 8),
              "seated": ("s1", 1985), "queued": ("s1", 1980), "parent": ("s1", 1992),
              "passed": ("s1", 1970), "linden": ("s2", 1999)}
    for day, (rid, (site, born)) in enumerate(people.items(), start=1):
        await run(mem, projection.on_resident_registered, wrap(ResidentRegistered(
            resident_id=rid, household_id=f"h-{rid}", birth_year=born,
            residence_status="asylum_pending", arrival_date=date(2026, 1, 2)), source="housing"))
        await run(mem, projection.on_resident_moved, wrap(ResidentPlaced(
            resident_id=rid, household_id=f"h-{rid}", site_id=site,
            moved_in=date(2026, 2, day)), source="housing"))
    await new_course(mem, capacity=1)
    await new_course(mem, course_id="cafe", kind="parents_cafe")
    await new_course(mem, course_id="ik", kind="integration_course")
    await enrol(mem, "seated")
    await enrol(mem, "queued")
    await enrol(mem, "parent", course_id="cafe")  # no language course
    done, _ = await enrol(mem, "passed", course_id="ik")
    await run(mem, attendance.complete_enrolment, c.CompleteEnrolment(
        actor=VHS, enrolment_id=done.enrolment_id, passed=True, certificate_level="B1"))

    async def waiting(actor: Actor = ADMIN, **flt: Any) -> list[tuple[str, str]]:
        page = await mem.ask(language.list_language_waiting,
                             c.ListLanguageWaiting(actor=actor, **flt))
        assert page.total == len(page.items)
        return [(w.resident_id, w.state) for w in page.items]

    assert await waiting() == [("adult", "none"), ("parent", "none"), ("linden", "none"),
                               ("queued", "waitlisted")]  # nothing first, then by since
    assert await waiting(district="Linden") == [("linden", "none")]
    assert await waiting(site_id="s1", state="waitlisted") == [("queued", "waitlisted")]
    page = await mem.ask(language.list_language_waiting, c.ListLanguageWaiting(
        actor=ADMIN, site_id="s1", offset=1, limit=1))
    assert [w.resident_id for w in page.items] == ["parent"] and page.total == 3
    item = (await mem.ask(language.list_language_waiting, c.ListLanguageWaiting(
        actor=ADMIN, state="waitlisted"))).items[0]
    assert (item.course_id, item.position, item.district, item.since) == (
        "c1", 1, "List", date(2026, 2, 4))
    await run(mem, enrolment.withdraw, c.Withdraw(
        actor=ADMIN, enrolment_id=(await enrol(mem, "x"))[0].enrolment_id, reason="r"))
    worker = Actor(subject="sw-1", role="social_worker", sites=("s2",))
    assert await waiting(worker) == [("linden", "none")]
    assert await waiting(worker, district="List") == []
    with pytest.raises(Forbidden):
        await waiting(worker, site_id="s1")
    for actor in (VHS, Actor(subject="o", role="operator", operator="op1"),
                  Actor(subject="a", role="auditor")):
        with pytest.raises(Forbidden):
            await waiting(actor)
    seat = mem.collections[store.ENROLMENTS]
    seated = next(e for e in seat.values() if e["resident_id"] == "seated")
    await run(mem, enrolment.withdraw, c.Withdraw(actor=ADMIN, enrolment_id=seated["_id"],
                                                  reason="moved away"))
    assert ("seated", "none") in await waiting()  # withdrawn: waiting again
    assert ("queued", "waitlisted") not in await waiting()  # promoted to the free seat


async def test_courses_by_district():
    mem = MemoryStore("education")
    for site, district in (("s1", "List"), ("s2", "Linden")):
        await run(mem, projection.on_site_registered, wrap(SiteRegistered(
            site_id=site, kind="shelter", name=site, district=district, capacity=9),
            source="housing"))
    await new_course(mem, course_id="list-1", site="s1")
    await new_course(mem, course_id="linden-1", site="s2")

    async def ids(**flt: Any) -> list[str]:
        page = await mem.ask(courses.list_courses, c.ListCourses(actor=ADMIN, **flt))
        assert page.total == len(page.items)
        return [x.course_id for x in page.items]

    assert await ids(district="Linden") == ["linden-1"]
    assert await ids(district="List", site_id="s1") == ["list-1"]
    assert await ids(district="List", site_id="s2") == []
    assert await ids(district="Nowhere") == []
    assert await ids() == ["linden-1", "list-1"]
