"""Plans through the gateway, which names no plan anywhere: its commands on the generic
route, its sections in the resident and site views and the city's figures, each role's
rights and the exact errors as HTTP statuses. Real servers, housing and plans in-process,
the gateway app served in-process."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from litestar import Litestar

from gateway.app import create_app
from gateway.auth import Tokens
from gateway.config import GatewayConfig
from housing.plugin import spec as housing_spec
from im_cli.testing import eventually
from im_runtime.service import ServiceRuntime
from plans.plugin import spec as plans_spec

pytestmark = [pytest.mark.flow, pytest.mark.timeout(300)]


@pytest.fixture
async def services(settings):
    runtimes = [ServiceRuntime(spec, settings) for spec in (housing_spec, plans_spec)]
    for rt in runtimes:
        await rt.start()
    yield
    for rt in runtimes:
        await rt.stop()


@contextlib.asynccontextmanager
async def serving(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """The app's lifespan in a task of its own, on this loop (where the services answer),
    and a client that calls it in-process."""
    started, stop = asyncio.Event(), asyncio.Event()

    async def host() -> None:
        async with app.lifespan():
            started.set()
            await stop.wait()

    task = asyncio.create_task(host())
    await started.wait()
    try:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app),
                                     base_url="http://gateway.test") as client:
            yield client
    finally:
        stop.set()
        await task


class Api:
    def __init__(self, client: httpx.AsyncClient, tokens: Tokens) -> None:
        self.client, self.tokens = client, tokens

    def who(self, role: str, **claims: Any) -> dict[str, str]:
        token = self.tokens.mint(role=role, subject=claims.pop("subject", f"{role}-1"),
                                 **claims)  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {token}"}

    async def post(self, path: str, body: Any, role: str = "city_admin",
                   **claims: Any) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.who(role, **claims))

    async def get(self, path: str, role: str = "city_admin", **claims: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.who(role, **claims))


def ok(r: httpx.Response) -> Any:
    assert r.status_code == 200, r.text
    return r.json()


async def test_plans_through_the_gateway(services, settings):
    config = GatewayConfig(key=secrets.token_bytes(32), deadline=2.0, discovery_ttl=0.2,
                           discovery_timeout=0.3)
    site = f"s-{uuid.uuid4().hex[:8]}"
    async with serving(create_app(settings, config)) as client:
        api = Api(client, Tokens(config.key))
        ok(await api.post("/api/v1/commands/housing/register_site", {
            "site_id": site, "kind": "shelter", "name": "Munzeler Straße", "operator_id": "op1",
            "address": "Munzeler Straße 1", "district": "Bothfeld", "capacity": 40}))
        house = ok(await api.post("/api/v1/commands/housing/register_household", {
            "site_id": site, "on": "2026-02-02", "members": [{
                "given_name": "Layla", "family_name": "Karimi", "birth_year": 1988,
                "residence_status": "subsidiary_protection", "arrival_date": "2026-02-01"}]}))
        rid, hid = house["resident_ids"][0], house["household_id"]
        plan_body = {"household_id": hid, "next_review": "2026-01-15", "goals": [{
            "resident_id": rid, "field": "language", "title": "Deutsch B1",
            "responsible": {"party": "social_worker"},
            "links": [{"fact": "language_course_completed", "level": "B1"}]}]}
        worker = {"role": "social_worker", "subject": "sw-04", "sites": (site,)}

        async def created() -> Any:
            # plans learns of the household, then of its site, from housing's events: until
            # then it is unknown (404), or placed nowhere (her site is not "None": 403)
            r = await api.post("/api/v1/commands/plans/create_plan", plan_body, **worker)
            details = r.json().get("details") or {} if r.status_code == 403 else {}
            placed_nowhere = r.status_code == 403 and not details.get("site_id")
            return None if r.status_code == 404 or placed_nowhere else r

        plan = ok(await eventually(created, timeout=30, interval=0.2))
        assert (plan["state"], plan["social_worker"]) == ("open", "sw-04")

        resident = ok(await api.get(f"/api/v1/residents/{rid}"))
        goals = resident["sections"]["plans"]["plan"]["goals"]
        assert [(g["field"], g["status"]) for g in goals] == [("language", "open")]
        here = ok(await api.get(f"/api/v1/sites/{site}", **worker))
        assert here["sections"]["plans"]["plans_open"] == 1
        assert here["sections"]["plans"]["reviews_due"] == 1
        stats = ok(await api.get("/api/v1/stats"))
        assert stats["sections"]["plans"]["plans"]["open"] >= 1
        mine = ok(await api.post("/api/v1/commands/plans/get_worklist",
                                 {"social_worker": "sw-04"}, **worker))
        assert [r["plan_id"] for r in mine["reviews_due"]] == [plan["plan_id"]]

        # rights and exact errors, as HTTP statuses
        r = await api.post("/api/v1/commands/plans/create_plan", plan_body, role="operator",
                           operator="op1")
        assert r.status_code == 403, r.text
        assert "role operator may not create plans for its households" in r.text
        r = await api.post("/api/v1/commands/plans/record_review", {
            "plan_id": plan["plan_id"], "on": "2026-03-01", "outcome": "on_track"},
            role="social_worker", subject="sw-09", sites=("elsewhere",))
        assert r.status_code == 403, r.text
        r = await api.post("/api/v1/commands/plans/link_goal", {
            "goal_id": plan["goals"][0]["goal_id"], "link": {"fact": "lottery_won"}})
        assert r.status_code == 400 and "Invalid enum value 'lottery_won'" in r.text
        r = await api.post("/api/v1/commands/plans/create_plan", {"household_id": "h-none"})
        assert r.status_code == 404 and "no household 'h-none'" in r.text
        after = ok(await api.post("/api/v1/commands/plans/get_plan",
                                  {"plan_id": plan["plan_id"]}))
        assert after["goals"] == plan["goals"] and after["reviews"] == []
