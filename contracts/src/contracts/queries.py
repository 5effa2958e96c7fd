"""The scatter-gather queries every service may answer with its own section."""

from __future__ import annotations

from contracts._base import Query

RESIDENT_OVERVIEW = "resident_overview"
SITE_OVERVIEW = "site_overview"
CITY_STATS = "city_stats"


class GetResidentOverview(Query):
    resident_id: str


class GetSiteOverview(Query):
    site_id: str


class GetCityStats(Query):
    pass
