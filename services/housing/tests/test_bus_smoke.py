"""A household's way through housing over the bus."""

from datetime import date

import msgspec
import pytest

from contracts import Actor, ErrorReply
from contracts import housing_commands as c
from contracts import subjects as subj
from contracts.queries import GetSiteOverview

pytestmark = pytest.mark.integration
ADMIN = Actor(subject="admin-1", role="city_admin")


async def test_place_overfill_and_move_out(housing, call, nc, test_id):
    site = f"s{test_id}"
    assert isinstance(await call("register_site", c.RegisterSite(
        actor=ADMIN, site_id=site, kind="shelter", name="Munzeler Straße", operator_id="op1",
        address="Munzeler Straße 1", district="Bothfeld", capacity=3)), c.SiteView)
    first = await call("register_resident", c.RegisterResident(
        actor=ADMIN, given_name="Amal", family_name="Haddad", birth_year=1988,
        residence_status="asylum_pending", arrival_date=date(2026, 3, 1), languages=["ar"]))
    hh = first.household_id
    for name in ("Rami", "Lina"):
        await call("register_resident", c.RegisterResident(
            actor=ADMIN, household_id=hh, given_name=name, family_name="Haddad",
            birth_year=2015, residence_status="asylum_pending", arrival_date=date(2026, 3, 1)))
    placed = await call("place_household", c.PlaceHousehold(
        actor=ADMIN, household_id=hh, site_id=site, on=date(2026, 3, 2)))
    assert placed.occupancy == 3 and len(placed.resident_ids) == 3
    other = await call("register_resident", c.RegisterResident(
        actor=ADMIN, given_name="Omid", family_name="Karimi", birth_year=1990,
        residence_status="tolerated", arrival_date=date(2026, 4, 1)))
    full = await call("place_household", c.PlaceHousehold(
        actor=ADMIN, household_id=other.household_id, site_id=site, on=date(2026, 4, 2)))
    assert isinstance(full, ErrorReply) and full.code == "conflict"
    case = await call("open_move_out_case", c.OpenMoveOutCase(actor=ADMIN, household_id=hh))
    for stage in ("searching", "offer_received", "viewing", "lease_signed", "moving",
                  "moved_out"):
        case = await call("advance_move_out_case", c.AdvanceMoveOutCase(
            actor=ADMIN, case_id=case.case_id, stage=stage))
        assert case.stage == stage
    msg = await nc.request(subj.query("site_overview"),
                           msgspec.json.encode(GetSiteOverview(site_id=site)), timeout=5)
    section = msgspec.json.decode(msg.data)["section"]
    assert section["occupancy"] == 0 and section["free"] == 3
