"""The event version education emits is a setting read once at start: v1 by default,
v2 (EnrolmentConfirmed plus the course's weekly hours) with IM_EDUCATION_EVENT_VERSION=2."""

from __future__ import annotations

from datetime import date

import pytest

from contracts import Actor
from contracts import education as ev
from contracts import education_commands as c
from education import courses, enrolment, versions
from im_runtime.memory import MemoryStore

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")


def test_the_setting():
    assert versions.event_version({}) == 1
    assert versions.event_version({"IM_EDUCATION_EVENT_VERSION": "2"}) == 2
    for bad in ("3", "v2", ""):
        with pytest.raises(ValueError, match="IM_EDUCATION_EVENT_VERSION"):
            versions.event_version({"IM_EDUCATION_EVENT_VERSION": bad})


@pytest.mark.parametrize("version", [1, 2])
async def test_enrolment_confirmed_in_the_configured_version(monkeypatch, version):
    monkeypatch.setattr(versions, "EVENT_VERSION", version)
    mem = MemoryStore("education")
    await mem.run(courses.create_course, c.CreateCourse(
        actor=ADMIN, course_id="c1", kind="arrival_course", title="Ankommenskurs",
        provider="adult_education_centre", site_id="s1", starts=date(2026, 3, 2),
        ends=date(2026, 6, 26), capacity=2,
        sessions=[c.Session(weekday="mon", starts_at="09:00", minutes=180),
                  c.Session(weekday="wed", starts_at="09:00", minutes=90)]))
    _, events = await mem.handle(enrolment.enrol,
                                 c.Enrol(actor=ADMIN, course_id="c1", resident_id="r1"))
    (event,) = events
    if version == 1:
        assert type(event) is ev.EnrolmentConfirmed
    else:
        assert type(event) is ev.EnrolmentConfirmedV2 and event.hours_per_week == 4.5
