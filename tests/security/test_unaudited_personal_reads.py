"""Attack: read residents' names through the generic command route, where no audit entry
used to be written (the views and the list were audited, `POST /api/v1/commands/housing/
get_resident` and `list_residents` were not). Each service marks the commands whose
replies carry personal data (`ServiceSpec.personal_reads`); the gateway audits them on
every route, and answers 503 when it cannot write the entry."""

from __future__ import annotations

from typing import Any

import pytest

from support.attack import Stack, rid


async def register(gw: Any, family_name: str) -> str:
    resident = rid("r")
    r = await gw.post("/api/v1/residents", {
        "resident_id": resident, "given_name": "Amina", "family_name": family_name,
        "birth_year": 1990, "languages": ["ar"], "residence_status": "recognised_refugee",
        "arrival_date": "2025-02-01"})
    assert r.status_code == 200, r.text
    return resident


async def audited(gw: Any, resident: str) -> list[dict[str, Any]]:
    r = await gw.get(f"/api/v1/audit?resident={resident}", role="auditor")
    assert r.status_code == 200, r.text
    return r.json()["items"]  # type: ignore[no-any-return]


@pytest.mark.flow
async def test_reading_residents_through_the_generic_command_route_is_audited(
        stack: Stack) -> None:
    async with stack.services("housing"), stack.gateway() as gw:
        family = rid("Haddad")
        first, second = await register(gw, family), await register(gw, family)
        reader = rid("sw")
        r = await gw.post("/api/v1/commands/housing/get_resident", {"resident_id": first},
                          subject=reader)
        assert r.status_code == 200 and r.json()["family_name"] == family, r.text
        entries = await audited(gw, first)
        assert [(e["subject"], e["action"]) for e in entries] == [
            (reader, "housing.get_resident")]
        r = await gw.post("/api/v1/commands/housing/list_residents", {"q": family},
                          subject=reader)
        assert r.status_code == 200, r.text
        listed = {i["resident_id"] for i in r.json()["items"]}
        assert {first, second} <= listed
        for resident in (first, second):
            assert ("housing.list_residents", reader) in {
                (e["action"], e["subject"]) for e in await audited(gw, resident)}
        # A command that reads nothing personal writes no entry.
        r = await gw.post("/api/v1/commands/housing/list_sites", {}, subject=reader)
        assert r.status_code == 200
        assert len(await audited(gw, first)) == 2


@pytest.mark.flow
async def test_a_personal_read_whose_audit_cannot_be_written_is_not_answered(
        stack: Stack) -> None:
    async with stack.services("housing"), stack.gateway() as gw:
        resident = await register(gw, "Haddad")
        await gw.app.state.audit.client.close()  # the audit database is gone
        r = await gw.post("/api/v1/commands/housing/get_resident", {"resident_id": resident})
        assert r.status_code == 503, r.text
        assert "Haddad" not in r.text and r.json()["details"]["service"] == "audit"
