"""The ledger's removal of a resident's messages from the bus, against a real nats-server of
its own (its stream files are read back): the bytes go from the block files, the stale
state file (`msgs/index.db`, which lists every subject) is dropped on a stream that
starts at sequence 2 and reported as kept on one still at sequence 1, other residents'
messages stay, and nothing else is purged."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import nats
import pytest
from nats.js.api import StreamConfig

from im_cli.embedded import NatsServer, throwaway_servers
from im_runtime import streams
from privacy import shredder

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def natsd() -> Iterator[NatsServer]:
    with throwaway_servers("im-shredder-") as (server, _):
        yield server


@pytest.fixture
async def nc(natsd: NatsServer) -> AsyncIterator[Any]:
    conn = await nats.connect(natsd.url)
    yield conn
    await conn.close()


def store_of(natsd: NatsServer, stream: str) -> Path:
    return natsd.workdir / "jetstream" / "jetstream" / "$G" / "streams" / stream / "msgs"


def mentioning(folder: Path, term: str) -> list[str]:
    """Which kinds of file in the stream's folder hold the term: "blk", "index.db"."""
    return sorted({"blk" if p.suffix == ".blk" else p.name for p in folder.iterdir()
                   if term.encode() in p.read_bytes()})


async def a_stream(nc: Any, natsd: NatsServer, first_seq: int | None) -> tuple[str, str]:
    """A stream holding two messages about `rid`, others' before, between and after, with
    its state file written (as by a server that was restarted)."""
    tag = uuid.uuid4().hex[:8].upper()
    name, rid = f"T_{tag}", f"r-{tag.lower()}"
    config = StreamConfig(name=name, subjects=[f"im.evt.t{tag.lower()}.>"])
    js = nc.jetstream()
    if first_seq is None:
        await js.add_stream(config)
    else:
        await streams.ensure(js, config)  # as the runtime creates streams
    base = f"im.evt.t{tag.lower()}.thing_happened"
    for subject in (f"{base}.r-other", f"{base}.{rid}", f"{base}.r-other", f"{base}.{rid}",
                    f"{base}.r-third"):
        await js.publish(subject, f"about {subject.rsplit('.', 1)[-1]}".encode())
    await nc.close()
    natsd.stop()  # writes the state file, as on any stack that ran a while
    natsd.start()
    return name, rid


async def test_erases_the_bytes_and_drops_the_state_file_of_a_stream_from_sequence_2(
        natsd: NatsServer) -> None:
    nc = await nats.connect(natsd.url)
    name, rid = await a_stream(nc, natsd, first_seq=2)
    folder = store_of(natsd, name)
    assert mentioning(folder, rid) == ["blk", "index.db"]
    nc = await nats.connect(natsd.url)
    try:
        done = await shredder.shred(nc, [name], rid)
        assert done.messages == {name: 2} and done.state_kept == []
        assert mentioning(folder, rid) == []
        info = await nc.jetstream().stream_info(name)
        assert info.state.messages == 3  # the others' stay, nothing else was purged
        assert mentioning(folder, "r-other") == ["blk"] == mentioning(folder, "r-third")
        # again: nothing left to find, nothing removed
        assert (await shredder.shred(nc, [name], rid)).messages == {}
    finally:
        await nc.close()
    # the state file comes back from the blocks, still without the resident
    natsd.stop()
    natsd.start()
    assert mentioning(folder, rid) == []
    nc = await nats.connect(natsd.url)
    try:
        assert (await nc.jetstream().stream_info(name)).state.messages == 3
    finally:
        await nc.close()


async def test_a_stream_still_at_sequence_1_reports_its_state_file_as_kept(
        natsd: NatsServer) -> None:
    nc = await nats.connect(natsd.url)
    name, rid = await a_stream(nc, natsd, first_seq=None)
    folder = store_of(natsd, name)
    nc = await nats.connect(natsd.url)
    try:
        done = await shredder.shred(nc, [name], rid)
        assert done.messages == {name: 2} and done.state_kept == [name]
        # the blocks are clean; only the state file waits for nats-server's own flush
        assert mentioning(folder, rid) == ["index.db"]
        assert (await nc.jetstream().stream_info(name)).state.messages == 3
    finally:
        await nc.close()


async def test_a_stream_without_the_resident_is_left_alone(natsd: NatsServer) -> None:
    nc = await nats.connect(natsd.url)
    name, _ = await a_stream(nc, natsd, first_seq=2)
    folder = store_of(natsd, name)
    state_before = (folder / "index.db").read_bytes()
    nc = await nats.connect(natsd.url)
    try:
        done = await shredder.shred(nc, [name], "r-nobody")
        assert done.messages == {} and done.state_kept == []
        assert (folder / "index.db").read_bytes() == state_before
    finally:
        await nc.close()


async def test_refused_rights_are_an_error_not_a_silent_success(natsd: NatsServer) -> None:
    nc = await nats.connect(natsd.url)
    try:
        with pytest.raises(shredder.BusError):
            await shredder.sequences(nc, "NO_SUCH_STREAM", "im.*.*.*.r-1")
        with pytest.raises(shredder.BusError):
            await shredder.drop_state(nc, "NO_SUCH_STREAM")
    finally:
        await nc.close()
