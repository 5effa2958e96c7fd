"""Attack: fill the bus's disk through a stream. Only the operators' stream had a size; a
service gone wrong (or whoever holds its password) could publish into its own stream,
the dead letters or the feedback stream until the disk was full, and a limit added
later with the default `discard: old` would silently drop the oldest events. Now every
stream the platform creates is bounded (a message at most 1 MiB, a total per stream)
and refuses new messages when full; provisioning brings older streams to the limits
without dropping anything they hold and without touching their retention."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import nats
import pytest
from nats.js.api import DiscardPolicy, StorageType, StreamConfig

from contracts import subjects as subj
from im_cli import natsauth
from im_cli.embedded import NatsServer, free_port
from im_runtime import streams
from im_runtime.plugins import installed
from support.attack import Stack


def limits(config: StreamConfig) -> tuple[int | None, int | None, str]:
    discard = getattr(config.discard, "value", config.discard)
    return config.max_msg_size, config.max_bytes, str(discard)


@pytest.mark.flow
async def test_every_stream_the_platform_creates_is_bounded(
        stack: Stack) -> None:
    wanted = natsauth.stream_configs(installed())
    assert len(wanted) >= 8
    async with stack.as_user(natsauth.ADMIN) as admin:
        for config in wanted:
            have = (await admin.js.stream_info(config.name)).config  # type: ignore[attr-defined]
            size, total, discard = limits(have)
            assert 0 < (size or 0) <= streams.MAX_MSG_SIZE, (have.name, size)
            assert 0 < (total or 0) <= streams.EVENT_MAX_BYTES, (have.name, total)
            assert discard == "new", have.name  # full: refuse, never drop what is stored


@pytest.fixture
def bare_nats(tmp_path: Path) -> Iterator[NatsServer]:
    server = NatsServer(port=free_port(), workdir=tmp_path / "nats")
    server.start()
    yield server
    server.stop()


@pytest.mark.flow
async def test_provisioning_bounds_an_older_stream_and_keeps_what_it_holds(
        bare_nats: NatsServer) -> None:
    nc = await nats.connect(bare_nats.url)
    js = nc.jetstream()
    try:
        # As an older version created it: no limits, discard old; a retention period set.
        old = StreamConfig(name=subj.event_stream("housing"),
                           subjects=[subj.events_of("housing")], storage=StorageType.FILE,
                           max_age=86400.0 * 30)
        await js.add_stream(old)
        for i in range(20):
            await js.publish(f"im.evt.housing.resident_registered.r-{i}", b"{}")
        await natsauth.provision(nc, [])
        info = await js.stream_info(old.name)
        assert limits(info.config) == (streams.MAX_MSG_SIZE, streams.EVENT_MAX_BYTES, "new")
        # The retention period is the one derived from the services' rules (#22), not the
        # older stream's: provisioning brings both the size limits and max_age up to date.
        derived = {c.name: c.max_age for c in natsauth.stream_configs(installed())}
        assert info.config.max_age == derived[old.name] != old.max_age
        assert info.state.messages == 20
        for config in natsauth.stream_configs(installed()):  # and every other stream
            have = (await js.stream_info(config.name)).config  # type: ignore[attr-defined]
            assert limits(have)[2] == "new" and (have.max_bytes or 0) > 0, have.name
        # A limit below what a stream already holds would drop its oldest messages at
        # once (discard old) or refuse every new one (discard new): the size is left as
        # it is, the rest applied.
        tight = dataclasses.replace(streams.event_stream("housing", 1, 600.0), max_bytes=100,
                                    max_msg_size=4096)
        await js.update_stream(dataclasses.replace(info.config, max_bytes=-1,
                                                   discard=DiscardPolicy.OLD))
        assert await streams.bound(js, tight)
        info = await js.stream_info(old.name)
        assert info.state.messages == 20
        assert limits(info.config) == (4096, -1, "new")
    finally:
        await nc.close()
