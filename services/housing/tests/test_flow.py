"""Flows with the real servers: a counselling referral becomes a move-out case and
completing it frees the place; restarting housing mid-flow loses and duplicates nothing."""

from __future__ import annotations

import asyncio
import contextlib
from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import nats.errors
import pytest
from pymongo import AsyncMongoClient

from contracts import Actor, CloudEvent, ErrorReply, ServiceSection, wrap
from contracts import housing_commands as c
from contracts import subjects as subj
from contracts.counselling import ReferralRequested
from contracts.queries import GetResidentOverview, GetSiteOverview
from housing.plugin import spec
from im_cli.testing import eventually, started
from im_runtime.discovery import instances
from im_runtime.service import consumer_name

pytestmark = pytest.mark.flow

ADMIN = Actor(subject="admin-1", role="city_admin")
ON = date(2026, 3, 2)
FORWARD = ("searching", "offer_received", "viewing", "lease_signed", "moving", "moved_out")
COUNSELLING = subj.event_stream("counselling")
DURABLE = consumer_name("housing", "counselling")


def referral(resident_id: str, referral_id: str, topic: str = "housing_search",
             operator_id: str = "op1") -> CloudEvent[Any]:
    return wrap(ReferralRequested(referral_id=referral_id, resident_id=resident_id,
                                  operator_id=operator_id, site_id="s", topic=topic,
                                  requested_on=ON), source="counselling")


async def publish(js: Any, event: CloudEvent[Any], msg_id: str | None = None) -> None:
    ack = await js.publish(
        subj.event("counselling", "referral_requested", event.data.resident_id),
        msgspec.json.encode(event), headers={"Nats-Msg-Id": msg_id or event.id})
    assert not ack.duplicate


async def settled(js: Any) -> bool:
    """Housing's counselling consumer has nothing left to deliver and nothing unacked."""
    info = await js.consumer_info(COUNSELLING, DURABLE)
    return info.num_pending == 0 and info.num_ack_pending == 0


async def query(nc: Any, q: Any) -> dict[str, Any]:
    name = next(a.name for a in spec.queries if isinstance(q, a.query))
    msg = await nc.request(subj.query(name), msgspec.json.encode(q), timeout=5)
    return msgspec.json.decode(msg.data, type=ServiceSection).section


def ok(reply: Any) -> Any:
    assert not isinstance(reply, ErrorReply), reply
    return reply


# 1. referral -> move-out case -> moved out ------------------------------------------

async def test_a_referral_becomes_a_move_out_case_that_frees_the_place(
        housing, call, events, nc, test_id):
    js = nc.jetstream()
    site = f"s-{test_id}"
    ok(await call("register_site", c.RegisterSite(
        actor=ADMIN, site_id=site, kind="shelter", name="Munzeler Straße", operator_id="op1",
        address="Munzeler Straße 1", district="Bothfeld", capacity=6)))
    first = ok(await call("register_resident", c.RegisterResident(
        actor=ADMIN, given_name="Amal", family_name="Haddad", birth_year=1988,
        residence_status="recognised_refugee", arrival_date=date(2026, 1, 5))))
    child = ok(await call("register_resident", c.RegisterResident(
        actor=ADMIN, household_id=first.household_id, given_name="Rami",
        family_name="Haddad", birth_year=2015, residence_status="recognised_refugee",
        arrival_date=date(2026, 1, 5))))
    unplaced = ok(await call("register_resident", c.RegisterResident(
        actor=ADMIN, given_name="Omid", family_name="Karimi", birth_year=1990,
        residence_status="tolerated", arrival_date=date(2026, 4, 1))))
    ok(await call("place_household", c.PlaceHousehold(
        actor=ADMIN, household_id=first.household_id, site_id=site, on=ON)))
    rid, ref_id = child.resident_id, f"ref-{test_id}"

    # other topics are not housing's; unknown and unplaced residents are turned down
    await publish(js, referral(rid, f"lang-{test_id}", topic="language_course"))
    await publish(js, referral(f"ghost-{test_id}", f"ghost-ref-{test_id}"))
    await publish(js, referral(unplaced.resident_id, f"early-{test_id}"))
    await publish(js, referral(rid, ref_id))

    case = (await eventually(lambda: overview(nc, rid)))["move_out_case"]
    assert case["stage"] == "opened"
    (accepted,) = await eventually(lambda: events.of("referral_accepted", ref_id))
    assert accepted["data"]["reference"] == case["case_id"]
    assert accepted["subject"] == rid
    turned_down = (f"ghost-{test_id}", unplaced.resident_id)
    await eventually(lambda: len(events.of("referral_rejected", *turned_down)) == 2)
    rejected = events.of("referral_rejected", *turned_down)
    reasons = {e["data"]["resident_id"]: e["data"]["reason"] for e in rejected}
    assert "not registered" in reasons[f"ghost-{test_id}"]
    assert "no active placement" in reasons[unplaced.resident_id]
    await eventually(lambda: settled(js))
    assert events.of("referral_accepted", f"lang-{test_id}") == []
    assert events.of("referral_rejected", f"lang-{test_id}") == []
    opened = events.of("move_out_case_opened", case["case_id"])
    assert len(opened) == 1 and opened[0]["data"]["referral_id"] == ref_id
    before = await query(nc, GetSiteOverview(site_id=site))
    assert (before["occupancy"], before["open_move_out_cases"]) == (2, 1)

    for stage in FORWARD:
        ok(await call("advance_move_out_case", c.AdvanceMoveOutCase(
            actor=ADMIN, case_id=case["case_id"], stage=stage)))
    after = await query(nc, GetSiteOverview(site_id=site))
    assert (after["occupancy"], after["free"], after["open_move_out_cases"]) == (0, 6, 0)
    done = (await query(nc, GetResidentOverview(resident_id=rid)))
    assert done["move_out_case"]["stage"] == "moved_out" and done["site"] is None
    (completed,) = await eventually(lambda: events.of("referral_completed", ref_id))
    assert completed["data"]["outcome"] == "moved_out"
    assert completed["data"]["reference"] == case["case_id"]
    assert completed["subject"] == rid
    await eventually(lambda: len(events.of("resident_moved_out", rid,
                                           first.resident_id)) == 2)


async def overview(nc: Any, rid: str) -> dict[str, Any] | None:
    section = await query(nc, GetResidentOverview(resident_id=rid))
    return section if section.get("move_out_case") else None


# 2. restart mid-flow ------------------------------------------------------------------

async def gone(nc: Any) -> bool:
    return not (await instances(nc)).get("housing")


async def equals(value: Any, want: Any) -> bool:
    return await value == want


def logs_of(tmp_path: Path) -> str:
    return "\n".join(p.read_text(errors="replace")[-3000:] for p in tmp_path.glob("*.log"))


@pytest.mark.timeout(300)  # housing started twice, on a loaded machine too
async def test_restarting_housing_mid_flow_loses_and_duplicates_nothing(
        spawn, settings, nc, follow_events, test_id, tmp_path):
    js = nc.jetstream()
    first = spawn("housing")
    await started(nc, "housing", 1)
    log, sub = await follow_events()
    site = f"s-{test_id}"
    n = 16
    rids = [f"r{i}-{test_id}" for i in range(n)]
    hhs = [f"h{i}-{test_id}" for i in range(n)]
    sequence: list[tuple[str, Any]] = [("register_site", c.RegisterSite(
        actor=ADMIN, site_id=site, kind="shelter", name="Ahlem", operator_id="op1",
        address="Heisterbergallee 8", district="Ahlem", capacity=n))]
    for rid, hh in zip(rids, hhs, strict=True):
        sequence.append(("register_resident", c.RegisterResident(
            actor=ADMIN, resident_id=rid, household_id=hh, given_name="G", family_name="F",
            birth_year=1990, residence_status="asylum_pending", arrival_date=ON)))
        sequence.append(("place_household", c.PlaceHousehold(
            actor=ADMIN, household_id=hh, site_id=site, on=ON)))
    sequence.append(("move_out_household", c.MoveOutHousehold(
        actor=ADMIN, household_id=hhs[-1], reason="departed", on=ON)))

    # Generous bounds on answers (a loaded machine is slow, not wrong); the walk below
    # stops on NoResponders once the service is gone, or on a request it took down.
    async def send(name: str, cmd: Any, timeout: float = 30) -> Any:
        route = next(r for r in spec.commands if r.name == name)
        msg = await nc.request(subj.command("housing", name), msgspec.json.encode(cmd),
                               timeout=timeout)
        return msgspec.json.decode(msg.data, type=route.reply | ErrorReply)

    answered: dict[int, Any] = {}

    async def walk() -> None:
        for i, (name, cmd) in enumerate(sequence):
            try:
                answered[i] = ok(await send(name, cmd, timeout=10))
            except (nats.errors.TimeoutError, nats.errors.NoRespondersError):
                return

    # the referral for the first household, sent once before the restart ...
    ref = referral(rids[0], f"ref-{test_id}")
    walking = asyncio.create_task(walk())
    await eventually(lambda: len(answered) >= 5 or walking.done(), timeout=60)
    assert len(answered) >= 5, ("the walk stopped before housing did", answered)
    await publish(js, ref)
    third = len(sequence) // 3
    await eventually(lambda: len(answered) >= third or walking.done(), timeout=60)
    assert len(answered) >= third, ("the walk stopped before housing did", answered)
    first.terminate()  # SIGTERM in the middle of the sequence
    await walking
    assert first.wait(15) == 0, logs_of(tmp_path)
    assert len(answered) < len(sequence), "the service stopped too late to test anything"
    await eventually(lambda: gone(nc), timeout=10)
    # ... and again while housing is down: the same event under another Nats-Msg-Id
    await publish(js, ref, msg_id=f"{ref.id}-again")

    spawn("housing")
    await started(nc, "housing", 1)
    # Carry on: every command of the sequence again, with the same command ids.
    for i, (name, cmd) in enumerate(sequence):
        reply = ok(await send(name, cmd))
        if i in answered:
            assert reply == answered[i], (name, reply, answered[i])
    # a resend by the operator: a new event for the same referral
    await publish(js, referral(rids[0], f"ref-{test_id}"))
    await eventually(lambda: settled(js), timeout=60)

    db = AsyncMongoClient(settings.mongo_url)[f"{settings.db_prefix}housing"]
    try:
        placed = await db["residents"].count_documents({"site_id": site})
        doc = await db["sites"].find_one({"_id": site})
        assert placed == n - 1 == doc["occupancy"]
        cases = await db["cases"].find({"household_id": hhs[0]}).to_list(None)
        assert len(cases) == 1 and len(cases[0]["referrals"]) == 1
        await eventually(lambda: equals(db["im_outbox"].count_documents({}), 0))
    finally:
        await db.client.close()

    section = await query(nc, GetSiteOverview(site_id=site))
    assert (section["occupancy"], section["open_move_out_cases"]) == (n - 1, 1)
    expected = {"site_registered": 1, "resident_registered": n, "resident_placed": n,
                "resident_moved_out": 1, "move_out_case_opened": 1, "referral_accepted": 1}

    def counts() -> dict[str, int]:
        return {k: len(log.of(k, site, *rids)) for k in expected}

    try:
        await eventually(lambda: counts() == expected, timeout=60)
        await asyncio.sleep(0.3)  # anything duplicated would have arrived by now
        assert counts() == expected
        mine = log.about(site, *rids)
        assert len({e["id"] for _, e, _ in mine}) == len(mine) == sum(expected.values())
        assert sorted(e["data"]["resident_id"] for e in log.of("resident_placed", *rids)) \
            == sorted(rids)
    finally:
        with contextlib.suppress(Exception):
            await sub.unsubscribe()
