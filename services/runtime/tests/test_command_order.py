"""Commands of a route with an `order_by` key, in a real runtime: different keys are
handled at once, one key's commands one at a time in order of arrival; a route without
a key stays one at a time."""

from __future__ import annotations

import asyncio

import msgspec
import pytest

from contracts import Command, ErrorReply, Reply
from contracts import subjects as subj
from im_runtime import Handles, ServiceSpec, UnitOfWork
from im_runtime.service import ServiceRuntime

pytestmark = pytest.mark.integration


class Hold(Command, frozen=True, kw_only=True):
    key: str
    n: int = 0
    wait_for: str | None = None  # hold until a command of this key has started


class Held(Reply, frozen=True, kw_only=True):
    n: int


started: dict[str, asyncio.Event] = {}
order: list[tuple[str, int]] = []


async def hold(cmd: Hold, uow: UnitOfWork) -> Held:
    order.append((cmd.key, cmd.n))
    started.setdefault(cmd.key, asyncio.Event()).set()
    if cmd.wait_for is not None:
        await asyncio.wait_for(started.setdefault(cmd.wait_for, asyncio.Event()).wait(), 3)
    return Held(n=cmd.n)


def spec_for(name: str, keyed: bool) -> ServiceSpec:
    return ServiceSpec(name=name, version="1.0.0", commands=(
        Handles("hold", Hold, hold, Held, order_by=(lambda c: c.key) if keyed else None),))


async def send(nc, service: str, cmd: Hold) -> Held | ErrorReply:
    msg = await nc.request(subj.command(service, "hold"), msgspec.json.encode(cmd), timeout=10)
    return msgspec.json.decode(msg.data, type=Held | ErrorReply)


@pytest.fixture
async def runtime(settings, test_id, request):
    rt = ServiceRuntime(spec_for(f"order{test_id}", request.param), settings)
    await rt.start()
    yield rt
    await rt.stop()


@pytest.mark.parametrize("runtime", [True], indirect=True)
async def test_different_keys_at_once_one_key_in_order(runtime, nc, test_id):
    name, a, b = runtime.spec.name, f"a{test_id}", f"b{test_id}"
    # a's command waits until b's has started: only possible if b's runs meanwhile
    first = asyncio.create_task(send(nc, name, Hold(key=a, n=0, wait_for=b)))
    await asyncio.sleep(0.1)
    for i in range(1, 31):  # sent in this order, from one connection
        await nc.publish(subj.command(name, "hold"), msgspec.json.encode(Hold(key=a, n=i)))
    assert await send(nc, name, Hold(key=b)) == Held(n=0)
    assert await first == Held(n=0)
    for _ in range(100):
        if len([n for key, n in order if key == a]) == 31:
            break
        await asyncio.sleep(0.05)
    assert [n for key, n in order if key == a] == list(range(31))


@pytest.mark.parametrize("runtime", [False], indirect=True)
async def test_without_a_key_one_at_a_time(runtime, nc, test_id):
    name, a, b = runtime.spec.name, f"a{test_id}", f"b{test_id}"
    first = asyncio.create_task(send(nc, name, Hold(key=a, wait_for=b)))
    await asyncio.sleep(0.1)
    second = asyncio.create_task(send(nc, name, Hold(key=b)))
    # b's command waits behind a's, which gives up waiting for it
    assert isinstance(await first, ErrorReply) and (await first).code == "internal"
    assert await second == Held(n=0)
