"""Who may do what with plans: the city team writes (a social worker for the households
of the sites they are assigned to, and for the plans they are responsible for); auditors
read; operators and providers neither (plans are the city's integration management)."""

from __future__ import annotations

from typing import Any

from contracts import Actor
from im_runtime import Forbidden
from im_runtime.access import require_role

WRITE = ("city_admin", "social_worker", "system")
READ = (*WRITE, "auditor")


def may(actor: Actor, roles: tuple[str, ...], site_id: str | None, plan: dict[str, Any] | None,
        what: str) -> None:
    """Raise Forbidden unless `actor` may do `what` for a household at `site_id`."""
    require_role(actor, roles, what)
    if actor.role != "social_worker":
        return
    if site_id is not None and site_id in actor.sites:
        return
    if plan is not None and plan.get("social_worker") == actor.subject:
        return
    raise Forbidden(f"social worker {actor.subject} is not assigned to site {site_id} "
                    f"and may not {what}", details={"site_id": site_id or ""})
