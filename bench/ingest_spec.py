"""Bench-only event type and service: one small event, one per-key state upsert.

`im.benchsrc.recorded.v1` events (published by the pretend service `benchsrc`) are
consumed by `benchsink`, whose handler keeps a count per key in `state`."""

from __future__ import annotations

from contracts import CloudEvent, EventData
from im_runtime import On, ServiceSpec, UnitOfWork

SOURCE = "benchsrc"
SINK = "benchsink"


class Recorded(EventData, frozen=True, kw_only=True, tag="im.benchsrc.recorded.v1"):
    key: str
    value: int = 0

    def resident_key(self) -> str | None:
        return self.key


async def on_recorded(event: CloudEvent[Recorded], uow: UnitOfWork) -> None:
    key = event.data.key
    doc = await uow.get("state", key) or {"_id": key, "n": 0, "sum": 0}
    doc["n"] += 1
    doc["sum"] += event.data.value
    uow.put("state", doc)


spec = ServiceSpec(
    name=SINK,
    version="0.0.0",
    description="ingest benchmark sink",
    consumes=(On(Recorded, handler=on_recorded),),
)
