"""Plans' fixtures: the in-memory store for handler tests, and a household as housing
reports it (registered, placed)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from typing import Any

import msgspec
import pytest

from contracts import Actor
from contracts.housing import ResidentPlaced, ResidentRegistered
from im_runtime.memory import MemoryStore
from plans import projection

ON = date(2026, 3, 2)
ADMIN = Actor(subject="admin-1", role="city_admin")


def t(seconds: float) -> datetime:
    return datetime(2026, 3, 1, tzinfo=UTC) + timedelta(seconds=seconds)


async def household(store: MemoryStore, hid: str, members: list[str], site: str = "s1",
                    at: float = 0) -> None:
    for i, rid in enumerate(members):
        await store.feed(projection.on_resident, ResidentRegistered(
            resident_id=rid, household_id=hid, birth_year=1990 + i, languages=["ar"],
            residence_status="recognised_refugee", arrival_date=ON), "housing", t(at + i))
        await store.feed(projection.on_resident, ResidentPlaced(
            resident_id=rid, household_id=hid, site_id=site, moved_in=ON), "housing",
            t(at + 10 + i))


async def refuse(store: MemoryStore, handler: Any, cmd: Any, exc: type[Exception]) -> Any:
    """Run a command that must be refused with `exc`: nothing stored changes."""
    before = msgspec.json.encode(store.collections)
    with pytest.raises(exc) as err:
        await store.run(handler, cmd)
    assert msgspec.json.encode(store.collections) == before
    return err.value


@pytest.fixture
def store() -> MemoryStore:
    return MemoryStore("plans")


@pytest.fixture
def helpers() -> Any:
    """The helpers above, for test modules (importlib mode cannot import conftest)."""
    import types

    return types.SimpleNamespace(household=household, t=t, ON=ON, ADMIN=ADMIN, refuse=refuse)


@pytest.fixture
def private_nats(tmp_path: Any) -> Any:
    """A nats-server of this test's own: plans' durable consumers start from nothing, as
    on a system it joins late."""
    from im_cli.embedded import NatsServer, free_port

    server = NatsServer(port=free_port(), workdir=tmp_path / "nats")
    server.start()
    yield server
    server.stop()
