"""The platform as an attacker meets it: a real nats-server with the generated accounts
(im_cli.natsauth), streams provisioned by the admin, real services under their own NATS
users and actor keys, the real gateway app; and raw connections as any user."""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import nats
from litestar import Litestar

from gateway.app import create_app
from gateway.auth import Tokens
from gateway.config import GatewayConfig
from im_cli import natsauth
from im_cli.embedded import NatsServer
from im_runtime.actors import service_key
from im_runtime.plugins import installed
from im_runtime.service import ServiceRuntime
from im_runtime.settings import Settings, inbox_prefix
from support.serving import serving

OPERATORS = ("op-a", "op-b")


@dataclass
class Conn:
    """A raw connection as one NATS user, with the server's refusals it was told of."""

    nc: Any
    errors: list[str]

    @property
    def js(self) -> Any:
        return self.nc.jetstream()

    def violations(self) -> list[str]:
        return [e for e in self.errors if "permissions violation" in e.lower()]


@dataclass
class Stack:
    nats: NatsServer
    mongo_url: str
    auth: natsauth.Embedded
    secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    erasure_secret: bytes = field(default_factory=lambda: secrets.token_bytes(32))
    prefix: str = field(default_factory=lambda: f"sec{uuid.uuid4().hex[:8]}_")

    def settings(self, user: str, **kw: Any) -> Settings:
        base: dict[str, Any] = dict(
            nats_url=self.nats.url, mongo_url=self.mongo_url, db_prefix=self.prefix,
            retry_backoff=0.05, max_deliver=3, log_format="text",
            nats_user=user, nats_password=self.auth.passwords[user],
            erasure_secret=self.erasure_secret)
        if user.startswith("service-"):
            base["actor_key"] = service_key(self.secret, user.removeprefix("service-"))
        return Settings(**{**base, **kw})

    async def connect(self, user: str, *, own_inbox: bool = True) -> Conn:
        errors: list[str] = []

        async def on_error(exc: Exception) -> None:
            errors.append(str(exc))

        opts: dict[str, Any] = {"inbox_prefix": inbox_prefix(user)} if own_inbox else {}
        nc = await nats.connect(self.nats.url, user=user, password=self.auth.passwords[user],
                                error_cb=on_error, allow_reconnect=False, **opts)
        return Conn(nc, errors)

    @contextlib.asynccontextmanager
    async def as_user(self, user: str, **kw: Any) -> AsyncIterator[Conn]:
        conn = await self.connect(user, **kw)
        try:
            yield conn
        finally:
            await conn.nc.close()

    @contextlib.asynccontextmanager
    async def services(self, *names: str, **settings: Any
                       ) -> AsyncIterator[list[ServiceRuntime]]:
        specs = installed()
        rts = [ServiceRuntime(specs[n], self.settings(natsauth.service_user(n), **settings))
               for n in names]
        await asyncio.gather(*(rt.start() for rt in rts))
        try:
            yield rts
        finally:
            for rt in rts:
                await rt.stop()

    @contextlib.asynccontextmanager
    async def gateway(self, **config: Any) -> AsyncIterator[Gateway]:
        cfg = GatewayConfig(**{**dict(key=self.secret, deadline=1.0, discovery_ttl=0.2,
                                      discovery_timeout=0.3, forget_after=600.0), **config})
        app = create_app(self.settings(natsauth.GATEWAY), cfg)
        async with serving(app) as client:
            yield Gateway(client, Tokens(cfg.key), app)


@dataclass
class Gateway:
    client: httpx.AsyncClient
    tokens: Tokens
    app: Litestar

    def auth(self, role: str, **claims: Any) -> dict[str, str]:
        subject = claims.pop("subject", f"{role}-{uuid.uuid4().hex[:6]}")
        token = self.tokens.mint(role=role, subject=subject, **claims)
        return {"Authorization": f"Bearer {token}"}

    async def post(self, path: str, body: Any, role: str = "city_admin",
                   **claims: Any) -> httpx.Response:
        return await self.client.post(path, json=body, headers=self.auth(role, **claims))

    async def get(self, path: str, role: str = "city_admin", **claims: Any) -> httpx.Response:
        return await self.client.get(path, headers=self.auth(role, **claims))


def rid(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:10]}"


async def eventually(check: Any, timeout: float = 10.0, interval: float = 0.05) -> Any:
    loop = asyncio.get_running_loop()
    until = loop.time() + timeout
    while True:
        result = await check()
        if result or loop.time() > until:
            return result
        await asyncio.sleep(interval)
