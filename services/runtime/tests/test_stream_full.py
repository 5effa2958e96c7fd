"""F6 in the small (the fault suite runs it on a real nats-server): a stream that refuses
for lack of room is remembered by the relay; a command that would emit events is then
refused before anything is committed, and one committed as the stream filled is answered
`accepted`, not done. Once a publish goes through, commands are done as before."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest
from nats.js.errors import APIError, ServiceUnavailableError

from im_runtime.memory import MemoryStore
from im_runtime.metrics import Metrics
from im_runtime.outbox import OutboxRelay, refused_for_room
from im_runtime.pipeline.endpoints import CommandEndpoint
from support.probe import Add, spec

pytestmark = pytest.mark.unit
FULL = ServiceUnavailableError(code=503, err_code=10077, description="maximum bytes exceeded")


class Stream:
    """JetStream's publish, refusing while `full`."""

    def __init__(self) -> None:
        self.full, self.taken = False, []

    async def publish(self, subject: str, body: bytes, headers: Any = None) -> None:
        if self.full:
            raise FULL
        self.taken.append(subject)


def endpoint(store: MemoryStore, relay: OutboxRelay) -> CommandEndpoint:
    route = next(r for r in spec.commands if r.name == "add")
    return CommandEndpoint(service="probe", route=route, store=store, relay=relay,
                           metrics=Metrics("probe"))


async def add(ep: CommandEndpoint, command_id: str) -> dict[str, Any]:
    body = msgspec.json.encode(Add(command_id=command_id, resident_id="r1"))
    return msgspec.json.decode(await ep(body))  # type: ignore[no-any-return]


def test_only_a_lack_of_room_counts_as_full():
    assert "maximum bytes exceeded" in (refused_for_room(FULL) or "")
    assert refused_for_room(APIError(code=503, err_code=10047,
                                     description="insufficient storage")) is not None
    assert refused_for_room(TimeoutError()) is None
    assert refused_for_room(APIError(code=404, err_code=10059,
                                     description="stream not found")) is None


async def test_commands_are_not_answered_as_done_while_their_stream_is_full():
    store, stream = MemoryStore("probe"), Stream()
    relay = OutboxRelay(stream, store, Metrics("probe"))  # type: ignore[arg-type]
    relay.start()
    ep = endpoint(store, relay)
    try:
        assert (await add(ep, "c0"))["status"] == "ok"  # room: done, its event out
        assert len(stream.taken) == 1 and relay.full is None

        stream.full = True
        first = await add(ep, "c1")  # committed as the stream filled
        assert (first["status"], first["code"]) == ("error", "accepted")
        assert "full" in first["message"] and relay.full is not None
        before = store.snapshot()
        second = await add(ep, "c2")  # refused before anything is committed
        assert (second["status"], second["code"]) == ("error", "unavailable")
        assert store.snapshot() == before and len(store.outbox) == 1
        assert (await add(ep, "c1"))["code"] == "accepted"  # a repeat: still waiting

        stream.full = False
        await relay.flush()  # (the relay's own retry, without its back-off)
        assert relay.full is None and store.outbox == [] and len(stream.taken) == 2
        assert (await add(ep, "c1"))["total"] == 2  # the stored reply, now done
        assert (await add(ep, "c2"))["total"] == 3
    finally:
        await relay.stop()
