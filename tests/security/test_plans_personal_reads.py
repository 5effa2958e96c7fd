"""Attack: read a household's integration plan, or a social worker's worklist, through the
generic command route without an audit entry. Plans marks both reads in
`ServiceSpec.personal_reads` (`resident_id`: a plan names every member of its household,
a worklist the residents whose goals are overdue); the gateway audits each read for each
of them, and answers 503 when it cannot write the entries."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from support.attack import Stack, eventually, rid


async def household_with_a_plan(gw: Any, site: str, worker: str) -> tuple[list[str], str]:
    r = await gw.post("/api/v1/commands/housing/register_site", {
        "site_id": site, "kind": "shelter", "name": "Munzeler Straße", "operator_id": "op-1",
        "address": "Munzeler Straße 1", "district": "Linden", "capacity": 30})
    assert r.status_code == 200, r.text
    r = await gw.post("/api/v1/commands/housing/assign_staff", {  # the plan is hers
        "staff_id": worker, "name": "Jana Kowalski", "site_ids": [site]})
    assert r.status_code == 200, r.text
    r = await gw.post("/api/v1/commands/housing/register_household", {
        "members": [{"given_name": given, "family_name": "Haddad", "birth_year": 1990,
                     "residence_status": "recognised_refugee", "arrival_date": "2026-02-01"}
                    for given in ("Amina", "Yusuf")], "site_id": site, "on": "2026-02-02"})
    assert r.status_code == 200, r.text
    members, household = r.json()["resident_ids"], r.json()["household_id"]
    overdue = (date.today() - timedelta(days=7)).isoformat()
    body = {"household_id": household, "social_worker": worker, "goals": [
        {"resident_id": members[0], "field": "language", "title": "Deutsch B1",
         "responsible": {"party": "resident"}, "due": overdue}]}

    async def created() -> bool:  # plans learns of household and staff from housing's events
        return (await gw.post("/api/v1/commands/plans/create_plan", body)).status_code == 200

    await eventually(created, timeout=15, interval=0.1)
    return members, household


async def audited(gw: Any, resident: str, reader: str) -> list[str]:
    """What `reader` was recorded reading about the resident (setting up may be recorded
    too: a service the gateway has not discovered yet is taken to answer personal data)."""
    r = await gw.get(f"/api/v1/audit?resident={resident}", role="auditor")
    assert r.status_code == 200, r.text
    return [e["action"] for e in r.json()["items"] if e["subject"] == reader]


@pytest.mark.flow
async def test_reading_plans_and_worklists_through_the_generic_route_is_audited(
        stack: Stack) -> None:
    async with stack.services("housing", "plans"), stack.gateway() as gw:
        worker = rid("sw")
        (amina, yusuf), household = await household_with_a_plan(gw, rid("s"), worker)
        reader = rid("admin")
        r = await gw.post("/api/v1/commands/plans/get_plan", {"household_id": household},
                          subject=reader)
        assert r.status_code == 200, r.text
        assert {m["resident_id"] for m in r.json()["members"]} == {amina, yusuf}
        for resident in (amina, yusuf):  # Yusuf has no goal of his own: still named
            assert await audited(gw, resident, reader) == ["plans.get_plan"]
        r = await gw.post("/api/v1/commands/plans/get_worklist", {"social_worker": worker},
                          subject=reader)
        assert r.status_code == 200, r.text
        assert [g["resident_id"] for g in r.json()["overdue_goals"]] == [amina]
        assert await audited(gw, amina, reader) == ["plans.get_worklist", "plans.get_plan"]
        # not on the worklist: not read; a write is no read
        r = await gw.post("/api/v1/commands/plans/hand_over_plan", {
            "plan_id": r.json()["overdue_goals"][0]["plan_id"], "social_worker": "sw-x"},
            subject=reader)
        assert r.status_code == 404, r.text
        assert await audited(gw, yusuf, reader) == ["plans.get_plan"]


@pytest.mark.flow
async def test_a_plan_whose_audit_cannot_be_written_is_not_answered(stack: Stack) -> None:
    async with stack.services("housing", "plans"), stack.gateway() as gw:
        _, household = await household_with_a_plan(gw, rid("s"), rid("sw"))
        await gw.app.state.audit.client.close()  # the audit database is gone
        r = await gw.post("/api/v1/commands/plans/get_plan", {"household_id": household})
        assert r.status_code == 503, r.text
        assert "Deutsch" not in r.text and r.json()["details"]["service"] == "audit"
