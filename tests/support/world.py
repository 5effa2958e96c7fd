"""Every installed service and the gateway on servers of a module's own, for the data
subjects' rights flows (erasure, retention of the log, export, rectification): an erasure
waits for every durable consumer of erasure requests, and the shared test servers keep
consumers of services other modules no longer run."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import nats
from pymongo import AsyncMongoClient

from im_cli.embedded import throwaway_servers
from im_cli.privacy import messages_mentioning
from im_cli.testing import Servers, eventually
from im_runtime import streams
from support.erasure import request_and_approve


@dataclass
class World:
    gw: Any
    settings: Any
    runtimes: dict[str, Any]
    nc: Any
    servers: Servers

    async def restart(self, name: str) -> None:
        from im_runtime.plugins import installed
        from im_runtime.service import ServiceRuntime

        rt = ServiceRuntime(installed()[name], self.settings)
        await rt.start()
        self.runtimes[name] = rt


@dataclass
class Family:
    parent: str
    child: str
    household: str
    site: str
    family_name: str


async def ok(response: Any) -> dict[str, Any]:
    assert response.status_code in (200, 202), response.text
    return dict(response.json())


async def family(w: World, tag: str | None = None) -> Family:
    """A parent and a child in one household, placed at a shelter of their own."""
    tag = tag or uuid.uuid4().hex[:8]
    site = f"s-{tag}"
    await ok(await w.gw.post("/api/v1/commands/housing/register_site", {
        "site_id": site, "kind": "shelter", "name": "Munzeler Straße", "operator_id": f"op-{tag}",
        "address": "Munzeler Straße 1", "district": "Bothfeld", "capacity": 40}))
    family_name = f"Fam{tag}"
    parent = await ok(await w.gw.post("/api/v1/residents", {
        "given_name": f"Par{tag}", "family_name": family_name, "birth_year": 1991,
        "languages": ["ar"], "residence_status": "recognised_refugee",
        "arrival_date": "2025-02-01", "phone": "+49 511 1234567"}))
    child = await ok(await w.gw.post("/api/v1/residents", {
        "household_id": parent["household_id"], "given_name": f"Kid{tag}",
        "family_name": family_name, "birth_year": 2021,
        "residence_status": "recognised_refugee", "arrival_date": "2025-02-01"}))
    await ok(await w.gw.post(f"/api/v1/households/{parent['household_id']}/placement",
                             {"site_id": site, "on": date.today().isoformat()}))
    return Family(parent["resident_id"], child["resident_id"], parent["household_id"], site,
                  family_name)


async def database_mentions(w: World, terms: list[str]) -> list[str]:
    """Every document of every database of this world mentioning a term."""
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(w.settings.mongo_url)
    found = []
    try:
        for db_name in await client.list_database_names():
            if not db_name.startswith(w.settings.db_prefix):
                continue
            for coll in await client[db_name].list_collection_names():
                async for doc in client[db_name][coll].find({}):
                    text = json.dumps(doc, default=str)
                    found += [f"{db_name}.{coll}/{doc['_id']}" for t in terms if t in text]
    finally:
        await client.close()
    return found


async def stream_mentions(w: World, term: str) -> dict[str, int]:
    """Stream -> messages anywhere in it (subject, headers or body) mentioning the term:
    every stream read as `im privacy report --deep` reads it, without the report's
    question to the services (a scatter-gather that waits out its deadline, twice)."""
    js = w.nc.jetstream()
    found = {s: await messages_mentioning(js, s, [term]) for s in await streams.names(w.nc)}
    return {s: n for s, n in found.items() if n}


async def erase_and_wait(w: World, resident: str, timeout: float = 40) -> dict[str, Any]:
    await request_and_approve(w.gw, resident)

    async def complete() -> dict[str, Any] | None:
        s = (await w.gw.get(f"/api/v1/residents/{resident}/erasure")).json()
        return s if s.get("complete") else None

    return dict(await eventually(complete, timeout=timeout, interval=0.3))


async def own_world(kit: Any, specs: dict[str, Any]) -> AsyncIterator[World]:
    """For a module fixture: `async for w in own_world(kit, installed()): yield w`."""
    with throwaway_servers("im-rights-") as (natsd, mongod):
        servers = Servers(natsd.url, mongod.url, natsd.workdir)
        settings = kit.settings_for(servers)
        nc = await nats.connect(servers.nats_url)
        try:
            async with kit.running(*specs.values(), settings=settings) as rts, \
                    kit.gateway_for(settings) as gw:
                w = World(gw, settings, {rt.spec.name: rt for rt in rts}, nc, servers)
                yield w
                for rt in w.runtimes.values():  # the ones restarted by a test
                    if rt._ready and rt not in rts:
                        await rt.stop()
        finally:
            await nc.close()
