"""F3: a three-node NATS cluster (three nats-server processes from the wheel, streams with
three replicas); the leader of the stream the probe consumes is killed (-9) mid-stream
and started again later. Nothing lost, no effect twice."""

from __future__ import annotations

import asyncio
import signal
import time
from pathlib import Path
from typing import Any

import nats
import pytest

from faults.harness import SOURCE_STREAM, Stage, report
from im_cli.embedded import NatsServer, free_port
from im_cli.testing import eventually

pytestmark = [pytest.mark.faults, pytest.mark.slow, pytest.mark.timeout(400)]

SENT = 3000


class ClusterStage(Stage):
    """The stage with three clustered nats-servers instead of one."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        routes = [free_port() for _ in range(3)]
        self.nodes: list[NatsServer] = []
        for i in range(3):
            others = ", ".join(f"nats-route://127.0.0.1:{p}" for j, p in enumerate(routes)
                               if j != i)
            self.nodes.append(NatsServer(
                port=free_port(), workdir=root / f"nats{i + 1}", name=f"n{i + 1}",
                config_extra=(f"server_name: n{i + 1}\n"
                              f"cluster {{\n  name: im\n  listen: 127.0.0.1:{routes[i]}\n"
                              f"  routes: [{others}]\n}}\n")))
        self.nats = self.nodes[0]

    @property
    def urls(self) -> str:
        return ",".join(n.url for n in self.nodes)

    def start_servers(self) -> None:
        for node in self.nodes:
            node.start()
        self.mongo.start()

    def env(self, **extra: str) -> dict[str, str]:
        return super().env(IM_NATS_URL=self.urls, IM_STREAM_REPLICAS="3", **extra)

    async def connect(self) -> Any:
        async def quiet(exc: Exception) -> None:
            pass

        return await nats.connect(self.urls.split(","), max_reconnect_attempts=-1,
                                  reconnect_time_wait=0.2, connect_timeout=2, error_cb=quiet)

    async def declare(self, nc: Any) -> None:
        from im_runtime import streams

        await streams.ensure(nc.jetstream(), streams.for_source("tester", 3, 600.0))

    def stop(self) -> None:
        super().stop()
        for node in self.nodes[1:]:
            node.stop()


async def test_leader_killed_mid_stream(tmp_path: Path) -> None:
    stage = ClusterStage(tmp_path)
    stage.start_servers()
    try:
        nc = await stage.connect()
        js = nc.jetstream()
        await eventually(lambda: _meta_leader(js), timeout=60, interval=0.5)
        await stage.declare(nc)
        stage.start("probe")
        await stage.until_ready("probe", timeout=90)
        info = await js.stream_info(SOURCE_STREAM)
        assert info.config.num_replicas == 3
        sending = asyncio.create_task(stage.send(js, SENT, pace=0.001))
        await asyncio.sleep(1.5)
        leader = (await js.stream_info(SOURCE_STREAM)).cluster.leader
        node = next(n for n in stage.nodes if n.name == leader)
        assert node.proc is not None
        node.proc.send_signal(signal.SIGKILL)
        node.proc.wait(10)
        began = time.monotonic()
        new_leader = await eventually(lambda: _leader_other_than(js, leader), timeout=60,
                                      interval=0.2)
        elected = time.monotonic() - began
        await asyncio.sleep(3)
        node.start()
        await sending
        figures = await stage.drained(js, SENT, timeout=180)
        figures.extra.update(killed=leader, new_leader=new_leader,
                             new_leader_after_s=round(elected, 1), replicas=3)
        report("F3 cluster leader killed", figures)
        assert figures.dead_letters == 0
        assert (figures.effects, figures.emitted, figures.lost) == (SENT, SENT, 0)
        await nc.close()
    finally:
        stage.stop()
        if any(n.proc and n.proc.poll() is None for n in stage.nodes):
            print(stage.logs())


async def _meta_leader(js: Any) -> bool:
    try:
        await js.account_info()
    except Exception:
        return False
    return True


async def _leader_other_than(js: Any, old: str) -> str | None:
    try:
        info = await js.stream_info(SOURCE_STREAM)
    except Exception:
        return None
    leader = info.cluster.leader if info.cluster else None
    return leader if leader and leader != old else None
