"""Housing's events on JetStream and its answers to the scatter-gather queries, with the
real servers (a fresh housing database per test)."""

from __future__ import annotations

from datetime import date
from typing import Any

import msgspec
import pytest

from contracts import Actor, ErrorReply
from contracts import housing_commands as c
from contracts import subjects as subj
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from im_cli.testing import eventually

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("housing")]

ADMIN = Actor(subject="admin-1", role="city_admin")
ON = date(2026, 3, 2)
PERSONAL_KEYS = (b'"given_name"', b'"family_name"', b'"phone"')


def ok(reply: Any) -> Any:
    assert not isinstance(reply, ErrorReply), reply
    return reply


async def resident(call: Any, given: str, family: str, household_id: str | None = None,
                   **kw: Any) -> c.ResidentRecord:
    return ok(await call("register_resident", c.RegisterResident(
        actor=ADMIN, household_id=household_id, given_name=given, family_name=family,
        birth_year=1990, residence_status="asylum_pending", arrival_date=date(2026, 3, 1),
        phone="+49 511 999", **kw)))


async def test_every_state_change_emits_its_event(call, events, test_id):
    family = f"Haddad{test_id}"
    a, b = f"a-{test_id}", f"b-{test_id}"
    ok(await call("register_site", c.RegisterSite(
        actor=ADMIN, site_id=a, kind="shelter", name="A", operator_id="op1", address="x",
        district="d", capacity=5)))
    ok(await call("register_site", c.RegisterSite(
        actor=ADMIN, site_id=b, kind="apartment", name="B", address="y", district="d",
        capacity=1)))
    ok(await call("change_site_capacity", c.ChangeSiteCapacity(actor=ADMIN, site_id=a,
                                                               capacity=6)))
    first = await resident(call, f"Amal{test_id}", family)
    second = await resident(call, f"Rami{test_id}", family, first.household_id)
    rids = [first.resident_id, second.resident_id]
    hh = first.household_id
    ok(await call("change_residence_status", c.ChangeResidenceStatus(
        actor=ADMIN, resident_id=rids[0], residence_status="subsidiary_protection")))
    ok(await call("place_household", c.PlaceHousehold(actor=ADMIN, household_id=hh,
                                                      site_id=a, on=ON)))
    ok(await call("place_household", c.PlaceHousehold(
        actor=ADMIN, household_id=hh, site_id=b, on=ON, emergency_override=True,
        override_reason="the shelter is being renovated")))
    ok(await call("assign_staff", c.AssignStaff(actor=ADMIN, staff_id=f"st-{test_id}",
                                                name=f"Meyer{test_id}", site_ids=[a, b])))
    case = ok(await call("open_move_out_case", c.OpenMoveOutCase(actor=ADMIN,
                                                                 household_id=hh)))
    ok(await call("set_search_criteria", c.SetSearchCriteria(
        actor=ADMIN, case_id=case.case_id, household_size=2, rent_ceiling=650)))
    offer = ok(await call("record_offer", c.RecordOffer(
        actor=ADMIN, case_id=case.case_id, landlord=f"Landlord{test_id}", address="Weg 1",
        rooms=2, rent=600, available_from=ON)))
    ok(await call("record_viewing", c.RecordViewing(
        actor=ADMIN, case_id=case.case_id, offer_id=offer.offer_id, on=ON,
        outcome="accepted")))
    ok(await call("advance_move_out_case", c.AdvanceMoveOutCase(
        actor=ADMIN, case_id=case.case_id, stage="cancelled", reason="family moved in")))
    # the same household moves out by command, the second case closes by cancelling
    ok(await call("move_out_household", c.MoveOutHousehold(
        actor=ADMIN, household_id=hh, reason="own_flat", on=ON)))
    # refused commands emit nothing
    assert isinstance(await call("move_out_household", c.MoveOutHousehold(
        actor=ADMIN, household_id=hh, reason="own_flat", on=ON)), ErrorReply)

    expected = {  # event -> how many about these ids
        "site_registered": 2, "site_capacity_changed": 1, "resident_registered": 2,
        "residence_status_changed": 1, "resident_placed": 2, "resident_transferred": 2,
        "staff_assigned": 1, "move_out_case_opened": 1,
        "move_out_case_advanced": 4,  # searching, offer_received, viewing, cancelled
        "offer_recorded": 1, "viewing_recorded": 1, "move_out_case_closed": 1,
        "resident_moved_out": 2,
    }
    ids = (a, b, *rids, f"st-{test_id}")

    def counts() -> dict[str, int]:
        return {name: len(events.of(name, *ids)) for name in expected}

    await eventually(lambda: counts() == expected, timeout=10)
    mine = events.about(*ids)
    assert len(mine) == sum(expected.values())
    for subject, event, raw in mine:
        service, name, token = subj.parse_event(subject)
        assert service == "housing" and event["source"] == "housing"
        assert event["type"] == f"im.housing.{name}.v1"
        if "resident_id" in event["data"]:
            assert token == event["data"]["resident_id"] == event["subject"], subject
            assert token in rids
        else:
            assert token is None and event["subject"] is None, subject
        for key in PERSONAL_KEYS:
            assert key not in raw, (subject, raw)
        for value in (f"Amal{test_id}", f"Rami{test_id}", family, "+49 511 999",
                      f"Landlord{test_id}"):
            assert value.encode() not in raw, (subject, raw)
    assert len({e["id"] for _, e, _ in mine}) == len(mine)
    transferred = events.of("resident_transferred", *rids)
    assert all(e["data"]["emergency_override"] and e["data"]["from_site_id"] == a
               for e in transferred)
    closed = events.of("move_out_case_closed", *rids)[0]["data"]
    assert (closed["outcome"], closed["reason"]) == ("cancelled", "family moved in")


async def test_a_repeated_command_emits_its_events_once(call, events, test_id):
    site = f"s-{test_id}"
    cmd = c.RegisterSite(actor=ADMIN, site_id=site, kind="apartment", name="n", address="a",
                         district="d", capacity=2)
    first, again = await call("register_site", cmd), await call("register_site", cmd)
    assert first == again and isinstance(first, c.SiteView)
    await eventually(lambda: events.of("site_registered", site))
    marker = f"m-{test_id}"  # a later event: once it is seen, the earlier ones are too
    ok(await call("register_site", c.RegisterSite(
        actor=ADMIN, site_id=marker, kind="apartment", name="n", address="a", district="d",
        capacity=1)))
    await eventually(lambda: events.of("site_registered", marker))
    assert len(events.of("site_registered", site)) == 1


async def query(ask: Any, q: Any) -> dict[str, Any]:
    section = await ask(q)
    assert not isinstance(section, ErrorReply), section
    return section  # type: ignore[no-any-return]


async def test_the_queries_answer_with_the_right_figures(call, ask, test_id):
    ids = {k: f"{k}-{test_id}" for k in ("sh1", "sh2", "ap1")}
    for key, kind, cap in (("sh1", "shelter", 10), ("sh2", "shelter", 2), ("ap1", "apartment",
                                                                           4)):
        ok(await call("register_site", c.RegisterSite(
            actor=ADMIN, site_id=ids[key], kind=kind, name=key.upper(),
            operator_id="op1" if kind == "shelter" else None, address="x", district="Mitte",
            capacity=cap, group="ost")))
    fam = await resident(call, "Amal", "Haddad", languages=["ar", "de"])
    await resident(call, "Rami", "Haddad", fam.household_id)
    await resident(call, "Lina", "Haddad", fam.household_id)
    solo = await resident(call, "Omid", "Karimi")
    other = await resident(call, "Sara", "Tesfaye")
    waiting = await resident(call, "Yusuf", "Ali")  # registered, never placed
    ok(await call("place_household", c.PlaceHousehold(
        actor=ADMIN, household_id=fam.household_id, site_id=ids["sh1"], on=ON)))
    ok(await call("place_household", c.PlaceHousehold(
        actor=ADMIN, household_id=solo.household_id, site_id=ids["sh2"], on=ON)))
    ok(await call("place_household", c.PlaceHousehold(
        actor=ADMIN, household_id=other.household_id, site_id=ids["sh2"], on=ON)))
    ok(await call("place_household", c.PlaceHousehold(  # the third in a site for two
        actor=ADMIN, household_id=waiting.household_id, site_id=ids["sh2"], on=ON,
        emergency_override=True, override_reason="night-time arrival")))
    for n, sites in ((1, ["sh1"]), (2, ["sh1", "sh2"]), (3, ["ap1"])):
        ok(await call("assign_staff", c.AssignStaff(
            actor=ADMIN, staff_id=f"st{n}-{test_id}", name=f"Worker {n}",
            site_ids=[ids[s] for s in sites])))
    open_case = ok(await call("open_move_out_case", c.OpenMoveOutCase(
        actor=ADMIN, household_id=fam.household_id)))
    ok(await call("set_search_criteria", c.SetSearchCriteria(
        actor=ADMIN, case_id=open_case.case_id, household_size=3, rent_ceiling=900)))
    done = ok(await call("open_move_out_case", c.OpenMoveOutCase(
        actor=ADMIN, household_id=solo.household_id)))
    for stage in ("searching", "offer_received", "viewing", "lease_signed", "moving",
                  "moved_out"):
        ok(await call("advance_move_out_case", c.AdvanceMoveOutCase(
            actor=ADMIN, case_id=done.case_id, stage=stage)))
    cancelled = ok(await call("open_move_out_case", c.OpenMoveOutCase(
        actor=ADMIN, household_id=other.household_id)))
    ok(await call("advance_move_out_case", c.AdvanceMoveOutCase(
        actor=ADMIN, case_id=cancelled.case_id, stage="cancelled", reason="changed mind")))

    stats = await query(ask, GetCityStats())
    assert stats == {
        "residents": 6, "placed": 5, "shelters": 2, "apartments": 1, "capacity": 16,
        "occupancy": {"shelters": 5, "apartments": 0}, "staff": 3,
        "move_outs": {"open": 1, "completed": 1, "cancelled": 1},
    }

    sh1 = await query(ask, GetSiteOverview(site_id=ids["sh1"]))
    assert {k: sh1[k] for k in ("site_id", "kind", "operator_id", "district", "group",
                                "capacity", "occupancy", "free", "open_move_out_cases",
                                "emergency_overrides")} == {
        "site_id": ids["sh1"], "kind": "shelter", "operator_id": "op1", "district": "Mitte",
        "group": "ost", "capacity": 10, "occupancy": 3, "free": 7, "open_move_out_cases": 1,
        "emergency_overrides": 0}
    assert sorted(s["staff_id"] for s in sh1["staff"]) == [f"st1-{test_id}", f"st2-{test_id}"]
    sh2 = await query(ask, GetSiteOverview(site_id=ids["sh2"]))
    assert (sh2["capacity"], sh2["occupancy"], sh2["free"], sh2["emergency_overrides"],
            sh2["open_move_out_cases"]) == (2, 2, 0, 1, 0)
    assert [s["name"] for s in sh2["staff"]] == ["Worker 2"]
    assert await query(ask, GetSiteOverview(site_id="no-such-site")) == {}

    mine = await query(ask, GetResidentOverview(actor=ADMIN, resident_id=fam.resident_id))
    assert mine["household_size"] == 3 and mine["languages"] == ["ar", "de"]
    assert mine["site"] == {"site_id": ids["sh1"], "name": "SH1", "kind": "shelter",
                            "operator_id": "op1"}
    assert mine["placements"] == [{"site_id": ids["sh1"], "since": ON.isoformat(),
                                   "until": None, "override": False}]
    assert mine["move_out_case"]["case_id"] == open_case.case_id
    assert mine["move_out_case"]["stage"] == "searching"
    assert mine["personal"]["given_name"] == "Amal"
    gone = await query(ask, GetResidentOverview(actor=ADMIN, resident_id=solo.resident_id))
    assert gone["site"] is None and gone["move_out_case"]["stage"] == "moved_out"
    assert gone["placements"][0]["until"] is not None
    assert gone["placements"][0]["end_reason"] == "own_flat"
    provider = Actor(subject="p", role="provider", provider="vhs")
    hidden = await query(ask, GetResidentOverview(actor=provider,
                                                  resident_id=fam.resident_id))
    assert "personal" not in hidden and b"Amal" not in msgspec.json.encode(hidden)
    assert await query(ask, GetResidentOverview(resident_id="r-nobody")) == {}


async def test_a_malformed_query_gets_an_error(nc):
    for name in ("resident_overview", "site_overview", "city_stats"):
        msg = await nc.request(subj.query(name), b"{nope", timeout=5)
        reply = msgspec.json.decode(msg.data, type=ErrorReply)
        assert reply.code == "bad_request" and reply.details["service"] == "housing"
    msg = await nc.request(subj.query("site_overview"), b'{"site_id": 7}', timeout=5)
    assert msgspec.json.decode(msg.data, type=ErrorReply).code == "bad_request"
