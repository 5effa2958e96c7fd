"""Who may do what in education, on top of im_runtime.access."""

from __future__ import annotations

from typing import Any

from contracts import Actor
from im_runtime import Forbidden
from im_runtime.access import STAFF, require_role, require_site

# The catalogue: the city, and providers for their own courses.
CATALOGUE = ("city_admin", "system", "provider")
# Enrolments: the city's staff, and providers for their own courses.
ENROLMENT = (*STAFF, "provider")
# Attendance and results: the course's provider (and the city).
TEACHING = ("city_admin", "system", "provider")


def require_own_course(actor: Actor, course: dict[str, Any], what: str) -> None:
    """A provider acts only on courses it runs."""
    if actor.role == "provider" and (actor.provider is None
                                     or course.get("provider_id") != actor.provider):
        raise Forbidden(f"provider {actor.provider} does not run course {course['_id']} "
                        f"and may not {what}", details={"course_id": course["_id"],
                                                        "role": actor.role})


def require_for_resident(actor: Actor, site_id: str | None, what: str) -> None:
    """A social worker acts only for residents of the sites they are assigned to."""
    require_site(actor, site_id, what)


def check(actor: Actor, roles: tuple[str, ...], what: str, course: dict[str, Any] | None = None,
          site_id: str | None = None) -> None:
    require_role(actor, roles, what)
    if course is not None:
        require_own_course(actor, course, what)
    if actor.role == "social_worker":
        require_for_resident(actor, site_id, what)
