"""Who may see which aggregated answer. The services filter their own sections by the
actor too; these rules decide whether the gateway gives the answer at all.

Which site a resident lives at is housing's knowledge: its resident_overview section
names `site.site_id` and `site.operator_id`, and the gateway reads them from there."""

from __future__ import annotations

from typing import Any

from contracts import Actor
from gateway.errors import ApiError, unavailable
from gateway.schemas import Aggregate

HOUSING = "housing"
# What a provider sees of a resident: who, the languages, and the participations and
# enrolments (never housing's personal data, coaching, counselling or cases).
PROVIDER_FIELDS = frozenset({"resident_id", "languages", "participations", "enrolments",
                             "language_course"})


def resident_view(actor: Actor, resident_id: str, agg: Aggregate) -> Aggregate:
    if not any(agg.sections.values()) and not agg.missing:
        raise ApiError("not_found", f"no service knows resident {resident_id}",
                       resident_id=resident_id)
    if actor.role == "city_admin":
        return agg
    site = _resident_site(resident_id, agg)
    if actor.role == "social_worker" and site.get("site_id") not in actor.sites:
        raise _refused(actor, resident_id, "lives at a site the social worker is not "
                                           "assigned to")
    if actor.role == "operator" and (not actor.operator
                                     or site.get("operator_id") != actor.operator):
        raise _refused(actor, resident_id, "does not live in one of the operator's shelters")
    if actor.role == "provider":
        return _for_provider(actor, resident_id, agg)
    return agg


def site_allowed(actor: Actor, site_id: str, agg: Aggregate | None) -> None:
    """Before asking (agg None) and after: social workers their sites, operators theirs."""
    if actor.role == "social_worker" and site_id not in actor.sites:
        raise ApiError("forbidden", f"social worker {actor.subject} is not assigned to "
                                    f"site {site_id}", site_id=site_id)
    if actor.role == "operator" and agg is not None:
        housing = agg.sections.get(HOUSING)
        if housing is None and HOUSING in agg.missing:
            raise unavailable(HOUSING, "did not answer, so the site's operator is unknown")
        if not housing or housing.get("operator_id") != actor.operator:
            raise ApiError("forbidden", f"site {site_id} is not run by operator "
                                        f"{actor.operator}", site_id=site_id)


def _resident_site(resident_id: str, agg: Aggregate) -> dict[str, Any]:
    housing = agg.sections.get(HOUSING)
    if housing is None and HOUSING in agg.missing:
        raise unavailable(HOUSING, "did not answer, so the resident's site is unknown")
    if not housing:
        raise ApiError("not_found", f"resident {resident_id} is not registered",
                       resident_id=resident_id)
    return dict(housing.get("site") or {})


def _for_provider(actor: Actor, resident_id: str, agg: Aggregate) -> Aggregate:
    """Only a participant of one of the provider's courses or programmes: some section
    must name the provider (services that relate residents to providers say so)."""
    if not actor.provider or not _names(agg.sections, actor.provider):
        raise _refused(actor, resident_id, "is not a participant of the provider's offers")
    sections = {service: {k: v for k, v in section.items() if k in PROVIDER_FIELDS}
                for service, section in agg.sections.items()}
    return Aggregate(sections={s: v for s, v in sections.items() if v}, missing=agg.missing)


def _names(value: Any, provider: str) -> bool:
    if isinstance(value, dict):
        return any((k in ("provider", "provider_id") and v == provider)
                   or (k == "providers" and isinstance(v, list) and provider in v)
                   or _names(v, provider) for k, v in value.items())
    if isinstance(value, list):
        return any(_names(v, provider) for v in value)
    return False


def _refused(actor: Actor, resident_id: str, why: str) -> ApiError:
    return ApiError("forbidden", f"resident {resident_id} {why}", resident_id=resident_id,
                    role=actor.role)
