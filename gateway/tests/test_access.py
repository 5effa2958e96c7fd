"""Every endpoint for every role (allowed and refused), tokens, command error mapping
and the audit log, against housing and employment running in-process."""

from __future__ import annotations

import time
from datetime import timedelta

import jwt
import pytest

from gateway.auth import Tokens

pytestmark = pytest.mark.integration

ROLES = ["city_admin", "social_worker", "social_worker_elsewhere", "operator",
         "other_operator", "provider", "auditor"]


def claims_for(role: str, city) -> dict:
    return {
        "city_admin": dict(role="city_admin"),
        "social_worker": dict(role="social_worker", sites=(city.site,)),
        "social_worker_elsewhere": dict(role="social_worker", sites=(city.other_site,)),
        "operator": dict(role="operator", operator=city.operator),
        "other_operator": dict(role="operator", operator="op-nobody"),
        "provider": dict(role="provider", provider="prov-1"),
        "auditor": dict(role="auditor"),
    }[role]


def row(**allowed: int) -> list[int]:
    return [allowed.get(r, 403) for r in ROLES]


# endpoint -> expected status per role, in the order of ROLES
MATRIX = {
    "GET /api/v1/residents/{resident}": row(city_admin=200, social_worker=200, operator=200),
    "GET /api/v1/sites/{site}": row(city_admin=200, social_worker=200, operator=200),
    "GET /api/v1/stats": [200] * len(ROLES),
    "GET /api/v1/services": [200] * len(ROLES),
    "GET /api/v1/sites": row(city_admin=200, social_worker=200, social_worker_elsewhere=200,
                             operator=200, other_operator=200),
    "GET /api/v1/residents?site={site}": row(city_admin=200, social_worker=200),
    "GET /api/v1/audit": row(auditor=200),
    "POST /api/v1/commands/housing/get_resident": row(city_admin=200, social_worker=200,
                                                      operator=200),
    "POST /api/v1/employment/coaching": row(city_admin=200, social_worker=200),
    # a new household belongs to no site yet: any social worker may register it
    "POST /api/v1/residents": row(city_admin=200, social_worker=200,
                                   social_worker_elsewhere=200),
}


def body_for(endpoint: str, city) -> dict:
    if "get_resident" in endpoint:
        return {"resident_id": city.resident}
    if "coaching" in endpoint:
        return {"resident_id": city.resident, "topic": "applications", "on": "2025-04-01"}
    return {"given_name": "Omar", "family_name": "Nasser", "birth_year": 1985,
            "residence_status": "asylum_pending", "arrival_date": "2025-05-01"}


@pytest.mark.parametrize("endpoint", list(MATRIX))
async def test_role_matrix(stack, endpoint):
    gw, city = stack
    method, path = endpoint.split(" ")
    path = path.format(resident=city.resident, site=city.site)
    got = []
    for role in ROLES:
        headers = gw.auth(**claims_for(role, city))
        if method == "GET":
            r = await gw.client.get(path, headers=headers)
        else:
            r = await gw.client.post(path, json=body_for(endpoint, city), headers=headers)
        got.append(r.status_code)
        if r.status_code >= 400:
            assert set(r.json()) == {"code", "message", "details"}, r.text
    assert dict(zip(ROLES, got, strict=True)) == dict(zip(ROLES, MATRIX[endpoint], strict=True))


async def test_views_are_filtered_per_role(stack):
    gw, city = stack
    admin = (await gw.get(f"/api/v1/residents/{city.resident}")).json()
    assert set(admin["sections"]) >= {"housing", "employment"} and admin["missing"] == []
    assert admin["sections"]["housing"]["personal"]["family_name"] == "Haddad"
    op = await gw.client.get(f"/api/v1/residents/{city.resident}",
                             headers=gw.auth(**claims_for("operator", city)))
    assert op.json()["sections"]["housing"]["site"]["site_id"] == city.site
    r = await gw.client.get(f"/api/v1/residents/{city.resident}",
                            headers=gw.auth(**claims_for("social_worker_elsewhere", city)))
    assert r.status_code == 403 and r.json()["code"] == "forbidden"
    r = await gw.get("/api/v1/residents/r-unknown-0000")
    assert r.status_code == 404 and r.json()["code"] == "not_found"


@pytest.mark.parametrize("case", ["missing", "not_bearer", "garbage", "wrong_key", "expired",
                                  "system_role", "no_subject"])
async def test_bad_tokens_are_401(stack, case):
    gw, city = stack
    key = gw.tokens.key
    now = int(time.time())
    tokens = {
        "missing": None,
        "not_bearer": "Basic dXNlcjpwYXNz",
        "garbage": "Bearer not-a-jwt",
        "wrong_key": "Bearer " + Tokens(b"k" * 32).mint(role="city_admin", subject="x"),
        "expired": "Bearer " + gw.tokens.mint(role="city_admin", subject="x",
                                               ttl=timedelta(seconds=-5)),
        "system_role": "Bearer " + jwt.encode({"sub": "x", "role": "system", "exp": now + 60},
                                              key, algorithm="HS256"),
        "no_subject": "Bearer " + jwt.encode({"role": "city_admin", "exp": now + 60}, key,
                                             algorithm="HS256"),
    }
    headers = {"Authorization": tokens[case]} if tokens[case] else {}
    for path in (f"/api/v1/residents/{city.resident}", "/api/v1/stats", "/api/v1/audit"):
        r = await gw.client.get(path, headers=headers)
        assert r.status_code == 401, (path, r.text)
        assert r.json()["code"] == "unauthorised"
        assert r.headers["www-authenticate"] == "Bearer"
    r = await gw.client.post("/api/v1/commands/housing/get_resident",
                             json={"resident_id": city.resident}, headers=headers)
    assert r.status_code == 401


async def test_health_and_schema_are_public(stack):
    gw, _ = stack
    assert (await gw.client.get("/health")).status_code == 200
    r = await gw.client.get("/schema/openapi.json")
    assert r.status_code == 200
    paths = r.json()["paths"]
    for p in ("/health", "/api/v1/services", "/api/v1/residents/{resident_id}",
              "/api/v1/sites/{site_id}", "/api/v1/stats", "/api/v1/sites", "/api/v1/residents",
              "/api/v1/audit", "/api/v1/commands/{service}/{command}",
              "/api/v1/households/{household_id}/placement", "/api/v1/employment/coaching",
              "/api/v1/education/enrolments"):
        assert p in paths, p


async def test_command_errors_map_to_http(stack):
    gw, city = stack
    r = await gw.post("/api/v1/residents", {"given_name": "No family"})
    assert r.status_code == 400 and r.json()["code"] == "bad_request"
    assert "family_name" in r.json()["message"] or "birth_year" in r.json()["message"]
    r = await gw.client.post("/api/v1/commands/housing/get_resident",
                             json={"resident_id": city.resident},
                             headers=gw.auth(**claims_for("social_worker_elsewhere", city)))
    assert r.status_code == 403 and r.json()["details"]["service"] == "housing"
    r = await gw.post("/api/v1/commands/housing/get_resident", {"resident_id": "r-none-123"})
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = await gw.post("/api/v1/commands/housing/no_such_command", {})
    assert r.status_code == 404 and r.json()["details"]["command"] == "no_such_command"
    r = await gw.post("/api/v1/commands/housing/register_site", {
        "site_id": city.site, "kind": "shelter", "name": "Again", "operator_id": "op-x",
        "address": "a", "district": "d", "capacity": 1})
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    started = time.perf_counter()
    r = await gw.post("/api/v1/commands/volunteers/propose_match", {"resident_id": "r-1"})
    assert r.status_code == 503 and r.json()["code"] == "unavailable"
    assert r.json()["details"]["service"] == "volunteers" and "volunteers" in r.json()["message"]
    # no responders: refused at once, not after the command timeout (5 s); the bound is
    # half of it, which leaves room for a loaded machine's slower request
    assert time.perf_counter() - started < 2.5
    r = await gw.post("/api/v1/commands/bad.name/x", {})
    assert r.status_code == 400


async def test_commands_carry_the_verified_actor(stack):
    """An actor smuggled into the body is replaced by the token's."""
    gw, city = stack
    r = await gw.client.post(
        "/api/v1/commands/housing/get_resident",
        json={"resident_id": city.resident, "actor": {"subject": "x", "role": "city_admin"}},
        headers=gw.auth(**claims_for("social_worker_elsewhere", city)))
    assert r.status_code == 403


async def test_reads_are_audited_and_only_auditors_read_the_log(stack):
    gw, city = stack
    reader = f"sw-{time.monotonic_ns()}"
    r = await gw.client.get(f"/api/v1/residents/{city.resident}",
                            headers=gw.auth(subject=reader, role="social_worker",
                                            sites=(city.site,)))
    assert r.status_code == 200
    r = await gw.client.get(f"/api/v1/residents/{city.resident}",
                            headers=gw.auth(subject=reader, role="social_worker",
                                            sites=(city.other_site,)))
    assert r.status_code == 403
    r = await gw.get("/api/v1/audit", role="auditor", params={"subject": reader})
    assert r.status_code == 200
    entries = r.json()["items"]
    assert [(e["outcome"], e["resident_id"]) for e in entries] == [
        ("refused", city.resident), ("read", city.resident)]
    read = entries[1]
    assert read["role"] == "social_worker" and read["action"] == "resident_overview"
    assert {"housing", "employment"} <= set(read["sections"]) and read["at"]
    r = await gw.get("/api/v1/audit", role="auditor",
                     params={"resident": city.resident, "limit": 1})
    assert r.json()["total"] >= 2 and len(r.json()["items"]) == 1
    for role in ("city_admin", "social_worker", "operator", "provider"):
        assert (await gw.get("/api/v1/audit", role=role)).status_code == 403
    await gw.get("/api/v1/residents", params={"site": city.site})
    r = await gw.get("/api/v1/audit", role="auditor", params={"resident": city.resident})
    assert "list_residents" in {e["action"] for e in r.json()["items"]}


async def test_named_routes_reach_their_commands(stack):
    """Move-out work through the named routes, path parameters merged into the body."""
    gw, city = stack
    sw = gw.auth(role="social_worker", sites=(city.site,))
    r = await gw.client.post(f"/api/v1/households/{city.household}/move-out-case", json={},
                             headers=sw)
    assert r.status_code == 200, r.text
    case = r.json()["case_id"]
    r = await gw.client.post(f"/api/v1/move-out-cases/{case}/stage",
                             json={"stage": "searching"}, headers=sw)
    assert r.status_code == 200 and r.json()["stage"] == "searching", r.text
    r = await gw.client.post(f"/api/v1/move-out-cases/{case}/offers", json={
        "landlord": "GBH", "address": "Lister Meile 3", "rooms": 2, "rent": 640.0,
        "available_from": "2026-01-01"}, headers=sw)
    assert r.status_code == 200 and r.json()["offer_id"], r.text
    r = await gw.client.post(f"/api/v1/move-out-cases/{case}/viewings", json={
        "offer_id": r.json()["offer_id"], "on": "2025-12-01", "outcome": "pending"},
        headers=sw)
    assert r.status_code == 200, r.text
    r = await gw.client.post(f"/api/v1/households/{city.household}/move-out-case", json={},
                             headers=sw)
    assert r.status_code == 200 and r.json()["case_id"] == case  # the open case, again
    other = gw.auth(role="social_worker", sites=(city.other_site,))
    r = await gw.client.post(f"/api/v1/move-out-cases/{case}/stage",
                             json={"stage": "paused", "reason": "illness"}, headers=other)
    assert r.status_code == 403
    body = (await gw.get(f"/api/v1/residents/{city.resident}")).json()
    assert body["sections"]["housing"]["move_out_case"]["case_id"] == case
