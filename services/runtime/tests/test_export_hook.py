"""A resident's access export as the runtime answers it for a service: the default (the
documents keyed by the resident or naming them as `resident_id`) or the service's own
`export=` hook, which may add documents that name the person otherwise."""

from __future__ import annotations

from typing import Any

import pytest

from contracts import Actor
from contracts.privacy import GetResidentExport
from im_runtime import Forbidden, ServiceSpec, UnitOfWork
from im_runtime.export import documents_about, handler
from im_runtime.memory import MemoryStore

pytestmark = pytest.mark.unit
ADMIN = Actor(subject="admin-1", role="city_admin")


async def seeded() -> MemoryStore:
    store = MemoryStore("club")
    uow = store.unit_of_work("club")
    uow.put("members", {"_id": "r-1", "name": "Amira", "_v": 3})
    uow.put("visits", {"_id": "v-1", "resident_id": "r-1", "on": "2026-03-02"})
    uow.put("visits", {"_id": "v-2", "resident_id": "r-2", "on": "2026-03-02"})
    uow.put("teams", {"_id": "t-1", "players": ["r-1", "r-2"]})
    await uow.commit()
    return store


async def with_teams(rid: str, uow: UnitOfWork) -> dict[str, list[dict[str, Any]]]:
    out = await documents_about(rid, uow)
    out["teams"] = [t for t in await uow.find("teams") if rid in t["players"]]
    return out


def ask(rid: str, actor: Actor = ADMIN) -> GetResidentExport:
    return GetResidentExport(resident_id=rid, actor=actor)


async def test_the_default_gives_what_is_keyed_by_or_names_the_resident():
    store = await seeded()
    section = await store.ask(handler(ServiceSpec(name="club", version="1")), ask("r-1"))
    assert section["collections"] == {
        "members": [{"_id": "r-1", "name": "Amira"}],  # bookkeeping fields left out
        "visits": [{"_id": "v-1", "resident_id": "r-1", "on": "2026-03-02"}]}
    assert section["documents"] == 2


async def test_a_services_own_hook_answers_instead():
    store = await seeded()
    spec = ServiceSpec(name="club", version="1", export=with_teams)
    section = await store.ask(handler(spec), ask("r-2"))
    assert set(section["collections"]) == {"visits", "teams"}
    assert section["collections"]["teams"] == [{"_id": "t-1", "players": ["r-1", "r-2"]}]
    assert await store.ask(handler(spec), ask("r-none")) is None  # nothing: no section


@pytest.mark.parametrize("role", ["social_worker", "auditor", "operator", "provider"])
async def test_only_city_admins_export(role):
    store = await seeded()
    spec = ServiceSpec(name="club", version="1", export=with_teams)
    with pytest.raises(Forbidden):
        await store.ask(handler(spec), ask("r-1", Actor(subject="x", role=role)))  # type: ignore[arg-type]
