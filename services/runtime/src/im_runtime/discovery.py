"""Which services run right now, from the bus: a $SRV.INFO scatter-gather."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from typing import Any

import nats
from nats.aio.client import Client

from im_runtime.connection import servers
from im_runtime.settings import Settings


@dataclass(frozen=True)
class Instance:
    name: str
    version: str
    id: str
    metadata: dict[str, str] = field(default_factory=dict)

    @property
    def queries(self) -> set[str]:
        return {q for q in self.metadata.get("queries", "").split(",") if q}


async def gather(nc: Client, subject: str, payload: bytes, timeout: float,
                 expect: int | None = None) -> list[bytes]:
    """Publish once and collect every reply until the deadline (or `expect` replies)."""
    inbox = nc.new_inbox()
    replies: list[bytes] = []
    enough = asyncio.Event()

    async def collect(msg: Any) -> None:
        replies.append(msg.data)
        if expect is not None and len(replies) >= expect:
            enough.set()

    sub = await nc.subscribe(inbox, cb=collect)
    try:
        await nc.publish(subject, payload, reply=inbox)
        await nc.flush()
        try:
            await asyncio.wait_for(enough.wait(), timeout)
        except TimeoutError:
            pass
    finally:
        await sub.unsubscribe()
    return replies


async def instances(nc: Client, timeout: float = 0.5) -> dict[str, list[Instance]]:
    out: dict[str, list[Instance]] = {}
    for raw in await gather(nc, "$SRV.INFO", b"", timeout):
        try:
            info = json.loads(raw)
        except ValueError:
            continue
        meta = info.get("metadata") or {}
        if meta.get("platform") != "im":
            continue
        inst = Instance(info["name"], info.get("version", "?"), meta.get("instance", info["id"]),
                        meta)
        out.setdefault(inst.name, []).append(inst)
    return out


async def discover(settings: Settings, timeout: float = 0.5) -> dict[str, list[Instance]]:
    async def quiet(_: Exception) -> None:
        return None

    # nats-py keeps retrying an initial connect to a server that is down: bound it.
    nc = await asyncio.wait_for(nats.connect(
        servers(settings.nats_url), connect_timeout=2, allow_reconnect=False, error_cb=quiet,
        **settings.nats_options()), timeout=3)  # type: ignore[arg-type]
    try:
        return await instances(nc, timeout)
    finally:
        await nc.close()
