"""Commands with an order_by key: one key's commands one at a time in arrival order,
different keys at once, and no lock kept once a key's commands are done."""

import asyncio

import pytest

from im_runtime.transport.requests import Lanes

pytestmark = pytest.mark.unit


async def test_one_key_in_order_other_keys_at_once():
    lanes, log = Lanes(), []
    gate = asyncio.Event()

    async def command(key: str, n: int) -> None:
        async with lanes.hold(key):
            log.append(("start", key, n))
            if key == "site:a":
                await gate.wait()  # the first of site a is still in hand ...
            log.append(("end", key, n))

    tasks = [asyncio.create_task(command("site:a", n)) for n in range(3)]
    tasks.append(asyncio.create_task(command("site:b", 0)))
    await asyncio.sleep(0.05)
    # ... and site b went ahead meanwhile; the others of site a wait their turn
    assert log == [("start", "site:a", 0), ("start", "site:b", 0), ("end", "site:b", 0)]
    gate.set()
    await asyncio.gather(*tasks)
    assert [n for what, key, n in log if key == "site:a" and what == "start"] == [0, 1, 2]
    assert len(lanes) == 0


async def test_a_failing_command_frees_its_key():
    lanes = Lanes()
    with pytest.raises(RuntimeError):
        async with lanes.hold("k"):
            raise RuntimeError("handler failed")
    assert len(lanes) == 0
    async with lanes.hold("k"):
        assert len(lanes) == 1


async def test_a_committed_command_frees_its_lane_while_it_waits_for_its_acks():
    """The next command of a lane starts once the one before committed, not once that
    one's events are acknowledged (im_runtime.lane.committed)."""
    from im_runtime import lane

    lanes, log = Lanes(), []
    acked = asyncio.Event()

    async def command(n: int) -> None:
        async with lanes.hold("route"):
            log.append(("committed", n))
            lane.committed()
            lane.committed()  # said twice: still released once
            if n == 0:
                await acked.wait()  # the first waits for its events' acks ...
            log.append(("answered", n))

    tasks = [asyncio.create_task(command(n)) for n in range(3)]
    await asyncio.sleep(0.05)
    # ... and the others went ahead, in order, meanwhile
    assert log == [("committed", 0), ("committed", 1), ("answered", 1), ("committed", 2),
                   ("answered", 2)]
    acked.set()
    await asyncio.gather(*tasks)
    assert len(lanes) == 0
    lane.committed()  # outside any lane: nothing to free
