"""Fixtures for the gateway against the real servers: the app served in-process, tokens
for every role, and housing and employment running in-process (ServiceRuntime); for the
browser tests one Chromium and the city most of them share (tests/support/city.py)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import httpx
import pytest

from counselling.plugin import spec as counselling_spec
from education.plugin import spec as education_spec
from employment.plugin import spec as employment_spec
from gateway.app import create_app
from gateway.auth import Tokens
from gateway.config import GatewayConfig
from housing.plugin import spec as housing_spec
from im_cli.embedded import throwaway_servers
from im_cli.testing import Servers, eventually
from im_runtime.service import ServiceRuntime
from im_runtime.settings import Settings
from plans.plugin import spec as plans_spec
from support import city as town
from support.browser import launched
from support.serving import serving
from volunteers.plugin import spec as volunteers_spec

# What the shared city runs: every domain service the browser pages show.
SHARED_SPECS = (housing_spec, education_spec, employment_spec, counselling_spec, plans_spec,
                volunteers_spec)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """One headless Chromium for every browser test (tests/support/browser.py); each test
    opens a context of its own."""
    async with launched() as b:
        yield b


@pytest.fixture(scope="session")
async def shared_city() -> AsyncIterator[town.City]:
    """Every domain service and one gateway for the browser modules that need no setting
    of their own (each test with random ids and sites, so none sees another's data).
    On servers of its own: on the session's servers, runtimes of the same service that
    other modules start would share this one's durable consumers (named per service,
    not per database prefix) and answer its gateway's queries."""
    with throwaway_servers("im-city-") as (natsd, mongod):
        servers = Servers(natsd.url, mongod.url, natsd.workdir)
        async with town.city(servers, SHARED_SPECS) as c:
            yield c


def gateway_config(**kw: Any) -> GatewayConfig:
    base: dict[str, Any] = dict(key=secrets.token_bytes(32), deadline=0.5, discovery_ttl=0.2,
                                discovery_timeout=0.2, forget_after=600.0)
    return GatewayConfig(**{**base, **kw})


@dataclass
class Gateway:
    client: httpx.AsyncClient
    tokens: Tokens
    settings: Settings

    def auth(self, role: str, subject: str | None = None, **claims: Any) -> dict[str, str]:
        token = self.tokens.mint(role=role, subject=subject or f"{role}-{uuid.uuid4().hex[:6]}",
                                 **claims)  # type: ignore[arg-type]
        return {"Authorization": f"Bearer {token}"}

    async def get(self, path: str, role: str = "city_admin", **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", None) or self.auth(role)
        return await self.client.get(path, headers=headers, **kw)

    async def post(self, path: str, body: Any, role: str = "city_admin",
                   **kw: Any) -> httpx.Response:
        headers = kw.pop("headers", None) or self.auth(role)
        return await self.client.post(path, json=body, headers=headers, **kw)


@contextlib.asynccontextmanager
async def gateway_for(settings: Settings, **config: Any) -> AsyncIterator[Gateway]:
    cfg = gateway_config(**config)
    async with serving(create_app(settings, cfg)) as client:
        yield Gateway(client, Tokens(cfg.key), settings)


@contextlib.asynccontextmanager
async def running(*specs: Any, settings: Settings) -> AsyncIterator[list[ServiceRuntime]]:
    rts = [ServiceRuntime(s, settings) for s in specs]
    await asyncio.gather(*(rt.start() for rt in rts))
    try:
        yield rts
    finally:
        for rt in rts:
            if rt._ready:
                await rt.stop()


@dataclass
class City:
    """One shelter (operator op-…) with a placed household of one resident, coached in
    employment; a second shelter of another operator."""

    site: str
    other_site: str
    operator: str
    resident: str
    household: str


def rid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def seed(gw: Gateway) -> City:
    city = City(site=rid("s"), other_site=rid("s"), operator=rid("op"), resident=rid("r"),
                household="")
    for site, op in ((city.site, city.operator), (city.other_site, rid("op"))):
        r = await gw.post("/api/v1/commands/housing/register_site", {
            "site_id": site, "kind": "shelter", "name": f"Shelter {site}", "operator_id": op,
            "address": "Podbielskistraße 1", "district": "List", "capacity": 50})
        assert r.status_code == 200, r.text
    r = await gw.post("/api/v1/residents", {
        "resident_id": city.resident, "given_name": "Amina", "family_name": "Haddad",
        "birth_year": 1990, "languages": ["ar"], "residence_status": "recognised_refugee",
        "arrival_date": "2025-02-01"})
    assert r.status_code == 200, r.text
    city.household = r.json()["household_id"]
    r = await gw.post(f"/api/v1/households/{city.household}/placement",
                      {"site_id": city.site, "on": date.today().isoformat()})
    assert r.status_code == 200, r.text

    async def coached() -> bool:  # employment learns of the resident from housing's events
        r = await gw.post("/api/v1/employment/coaching", {
            "resident_id": city.resident, "topic": "applications", "on": "2025-03-01"})
        return r.status_code == 200

    await eventually(coached, timeout=15, interval=0.1)
    return city


def settings_for(servers: Servers, prefix: str | None = None) -> Settings:
    return Settings(nats_url=servers.nats_url, mongo_url=servers.mongo_url,
                    db_prefix=prefix or f"t{uuid.uuid4().hex[:10]}_", 
                    retry_backoff=0.05, max_deliver=3, log_format="text")


class Kit:
    """The helpers above, for test modules (conftest is not importable under importlib)."""

    gateway_for = staticmethod(gateway_for)
    running = staticmethod(running)
    seed = staticmethod(seed)
    rid = staticmethod(rid)
    settings_for = staticmethod(settings_for)
    serving = staticmethod(serving)


@pytest.fixture(scope="session")
def kit() -> type[Kit]:
    return Kit


@pytest.fixture(scope="module")
async def stack(servers: Servers) -> AsyncIterator[tuple[Gateway, City]]:
    """Housing, employment and the gateway for a whole module, with a seeded city."""
    settings = settings_for(servers)
    async with running(housing_spec, employment_spec, settings=settings), \
            gateway_for(settings) as gw:
        yield gw, await seed(gw)

