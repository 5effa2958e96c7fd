"""Checks on the actor a command carries (set by the gateway from a verified token)."""

from __future__ import annotations

from contracts import Actor
from im_runtime.errors import Forbidden

STAFF = ("city_admin", "social_worker", "system")
ADMIN = ("city_admin", "system")


def require_role(actor: Actor, roles: tuple[str, ...], what: str) -> None:
    if actor.role not in roles:
        raise Forbidden(f"role {actor.role} may not {what}",
                        details={"role": actor.role, "allowed": ",".join(roles)})


def require_site(actor: Actor, site_id: str | None, what: str) -> None:
    """A social worker acts only for residents of the sites they are assigned to."""
    if actor.role == "social_worker" and (site_id is None or site_id not in actor.sites):
        raise Forbidden(f"social worker {actor.subject} is not assigned to site {site_id} "
                        f"and may not {what}", details={"site_id": site_id or ""})
