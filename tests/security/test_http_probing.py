"""Attack: probe the HTTP API. Answers about people were cacheable and sniffable, a body
of many megabytes was read whole (and failed with 500), and the generic command route
answered 503 "not running" for any made-up service name, telling nothing apart."""

from __future__ import annotations

import pytest

from support.attack import Stack, eventually

HARDENED = {"cache-control": "no-store", "x-content-type-options": "nosniff"}


@pytest.mark.flow
async def test_every_api_answer_is_neither_cached_nor_sniffed(stack: Stack) -> None:
    async with stack.services("housing"), stack.gateway() as gw:
        answers = [
            await gw.post("/api/v1/commands/housing/list_sites", {}),  # 200
            await gw.client.get("/api/v1/stats"),  # 401: no token
            await gw.get("/api/v1/audit", role="operator", operator="op-a"),  # 403
            await gw.get("/api/v1/no-such-route"),  # 404
            await gw.client.get("/health"),
        ]
        for r in answers:
            assert {k: r.headers.get(k) for k in HARDENED} == HARDENED, (r.status_code,
                                                                          r.headers)
        assert [r.status_code for r in answers][:4] == [200, 401, 403, 404]


@pytest.mark.flow
async def test_an_oversized_body_is_refused_with_413_before_it_reaches_a_service(
        stack: Stack) -> None:
    async with stack.services("housing"), stack.gateway() as gw:
        huge = {"resident_id": "r-1", "note": "x" * (300 * 1024)}
        r = await gw.post("/api/v1/commands/housing/get_resident", huge)
        assert r.status_code == 413, r.text
        assert r.headers["cache-control"] == "no-store"
        r = await gw.post("/api/v1/commands/housing/list_sites", {"pad": "x" * 1000})
        assert r.status_code == 200, r.text


@pytest.mark.flow
async def test_an_unknown_service_is_not_found_and_a_stopped_one_unavailable(
        stack: Stack) -> None:
    async with stack.services("housing"), stack.gateway() as gw:
        r = await gw.post("/api/v1/commands/no_such_service/anything", {})
        assert r.status_code == 404 and "no service" in r.json()["message"], r.text

        async def no_such_command() -> bool:  # once discovery has seen housing's commands
            r = await gw.post("/api/v1/commands/housing/no_such_command", {})
            return r.status_code == 404

        assert await eventually(no_such_command, timeout=5)
        r = await gw.post("/api/v1/commands/employment/get_programme",
                          {"programme_id": "p-1"})  # installed, not running here
        assert r.status_code == 503 and r.json()["details"]["service"] == "employment", r.text
