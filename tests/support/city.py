"""A city for the browser and flow tests: services running in-process (ServiceRuntime), the
gateway under uvicorn, a NATS connection for the operators' systems, and the calls a test
makes as the city admin or any other role. One `City` may serve many modules (each test
with random ids and sites of its own) or one module alone (a setting of its own)."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx
import msgspec
import nats

from contracts import subjects as subj
from contracts import wrap
from gateway.app import create_app
from gateway.auth import Tokens
from gateway.config import GatewayConfig
from im_cli.testing import Servers
from im_runtime.service import ServiceRuntime
from im_runtime.settings import Settings
from im_runtime.spec import ServiceSpec
from support.browser import http_server, sign_in, user, watched_page

# The gateway as the browser tests run it: short deadlines and a check interval of half a
# second (a disabled user is out within that time; a minute at most in production).
CONFIG: dict[str, Any] = dict(deadline=0.5, discovery_ttl=0.2, discovery_timeout=0.2,
                              check_seconds=0.5)


def tag() -> str:
    """A random id part, so tests sharing a city never see each other's data."""
    return uuid.uuid4().hex[:8]


@dataclass
class City:
    url: str
    key: bytes
    settings: Settings
    nc: Any  # a connection to the bus, as an operator's system (or the city admin) has
    http: httpx.AsyncClient
    runtimes: dict[str, ServiceRuntime] = field(default_factory=dict)

    @property
    def token(self) -> str:
        """The city admin's machine token (`im token`), to set the city up and to look."""
        return self.as_("city_admin", subject="setup")

    def as_(self, role: str, subject: str | None = None, **claims: Any) -> str:
        return Tokens(self.key).mint(role=role, subject=subject or f"{role}-x",  # type: ignore[arg-type]
                                     **claims)

    async def call(self, path: str, body: Any = None, token: str | None = None) -> httpx.Response:
        """GET `path` (no body) or POST the body, as the city admin unless `token` says."""
        headers = {"Authorization": f"Bearer {token or self.token}"}
        if body is None:
            return await self.http.get(path, headers=headers)
        return await self.http.post(path, json=body, headers=headers)

    async def ok(self, path: str, body: Any = None, token: str | None = None) -> Any:
        """`call`, which must succeed: the answer's JSON."""
        r = await self.call(path, body, token)
        assert r.status_code in (200, 201), (path, r.status_code, r.text)
        return r.json()

    async def command(self, service: str, command: str, body: Any,
                      token: str | None = None) -> Any:
        r = await self.call(f"/api/v1/commands/{service}/{command}", body, token)
        assert r.status_code == 200, (command, r.text)
        return r.json()

    async def user(self, role: str, username: str | None = None,
                   **extra: Any) -> tuple[str, str]:
        """An account made by the city admin, its one-time password replaced."""
        return await user(self.url, self.token, role, username, **extra)

    async def publish(self, operator: str, data: Any, resident: str) -> None:
        """The operator's system publishes an event on its own subjects, as its software
        would (the event's name from its tag: `im.operator.<name>.v<N>`)."""
        event = wrap(data, source=operator)
        name = type(data).__struct_config__.tag.split(".")[2]
        await self.nc.jetstream().publish(subj.operator_event(operator, name, resident),
                                          msgspec.json.encode(event),
                                          headers={"Nats-Msg-Id": event.id})

    async def start(self, *specs: ServiceSpec) -> None:
        await start(self.runtimes, specs, self.settings)

    async def stop(self, *names: str) -> None:
        for name in names or list(self.runtimes):
            rt = self.runtimes[name]
            if rt._ready:
                await rt.stop()


@dataclass
class Part:
    """A test module's own part of a city (its sites, people, accounts: fields of a
    subclass); the calls go to the city, so the module's tests read as before."""

    city: City

    @property
    def url(self) -> str:
        return self.city.url

    @property
    def key(self) -> bytes:
        return self.city.key

    @property
    def token(self) -> str:
        return self.city.token

    @property
    def nc(self) -> Any:
        return self.city.nc

    def as_(self, role: str, subject: str | None = None, **claims: Any) -> str:
        return self.city.as_(role, subject, **claims)

    async def call(self, path: str, body: Any = None, token: str | None = None) -> httpx.Response:
        return await self.city.call(path, body, token)

    async def ok(self, path: str, body: Any = None, token: str | None = None) -> Any:
        return await self.city.ok(path, body, token)

    async def command(self, service: str, command: str, body: Any,
                      token: str | None = None) -> Any:
        return await self.city.command(service, command, body, token)

    async def user(self, role: str, username: str | None = None,
                   **extra: Any) -> tuple[str, str]:
        return await self.city.user(role, username, **extra)


async def start(runtimes: dict[str, ServiceRuntime], specs: Iterable[ServiceSpec],
                settings: Settings) -> None:
    """Start the services together (each creates its streams, durables and indexes)."""
    rts = [ServiceRuntime(s, settings) for s in specs]
    runtimes.update({rt.spec.name: rt for rt in rts})
    await asyncio.gather(*(rt.start() for rt in rts))


def settings_for(servers: Servers, prefix: str | None = None) -> Settings:
    return Settings(nats_url=servers.nats_url, mongo_url=servers.mongo_url,
                    db_prefix=prefix or f"t{tag()}_", retry_backoff=0.05, max_deliver=3,
                    log_format="text")


@contextlib.asynccontextmanager
async def city(servers: Servers, specs: Iterable[ServiceSpec],
               settings: Settings | None = None, **config: Any) -> AsyncIterator[City]:
    """The services of `specs` and the gateway (`CONFIG`, changed by `config`) on a
    database prefix of their own; all stopped on exit."""
    settings = settings or settings_for(servers)
    cfg = GatewayConfig(key=secrets.token_bytes(32), **{**CONFIG, **config})
    runtimes: dict[str, ServiceRuntime] = {}
    nc = await nats.connect(servers.nats_url)
    try:
        await start(runtimes, specs, settings)
        async with http_server(create_app(settings, cfg)) as url, \
                httpx.AsyncClient(base_url=url, timeout=10) as http:
            yield City(url, cfg.key, settings, nc, http, runtimes)
    finally:
        for rt in runtimes.values():
            if rt._ready:
                await rt.stop()
        await nc.close()


@contextlib.asynccontextmanager
async def signed_in(browser: Any, c: City, who: tuple[str, str],
                    tolerated: tuple[int, ...] = (400, 403, 404, 409),
                    kinds: tuple[str, ...] = ("error",)) -> AsyncIterator[Any]:
    """A watched page (support.browser.watched_page: the refusals a test provokes are
    tolerated, other console errors fail it) signed in as `who`, on the city overview."""
    from playwright.async_api import expect

    async with watched_page(browser, tolerated=tolerated, kinds=kinds) as p:
        await sign_in(p, c.url, *who)
        await expect(p.get_by_role("heading", name="City overview", level=1)).to_be_visible()
        yield p
