"""Who may work on a participation: the city (admins, and social workers for residents of
their sites) and the programme's own providers."""

from __future__ import annotations

from typing import Any

from contracts import Actor
from im_runtime.access import STAFF, require_role, require_site
from im_runtime.errors import Forbidden


def require_programme_staff(actor: Actor, programme: dict[str, Any],
                            resident: dict[str, Any] | None, what: str) -> None:
    require_role(actor, (*STAFF, "provider"), what)
    if actor.role == "provider":
        if actor.provider not in programme["providers"]:
            raise Forbidden(f"provider {actor.provider} does not run {programme['_id']} and "
                            f"may not {what}", details={"role": actor.role,
                                                        "programme_id": programme["_id"]})
        return
    require_site(actor, (resident or {}).get("site_id"), what)
