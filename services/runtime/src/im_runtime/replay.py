"""Catching up with history before answering. A durable consumer created on a system
with history starts at the beginning of its stream (DeliverPolicy.ALL); until it has
worked through what the stream held when the service started, the service's
projections are incomplete, so it neither answers queries and commands nor says it is
ready. Progress goes to the log and to the `im_replay_pending` gauge."""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any

from im_runtime.metrics import Metrics

log = logging.getLogger("im.replay")


@dataclass
class Target:
    stream: str
    durable: str
    last_seq: int  # the stream's last sequence when the service started
    total: int  # what the consumer had to work through then
    left: int = 0

    def caught_up(self, info: Any) -> bool:
        self.left = int(info.num_pending) + int(info.num_ack_pending)
        floor = info.ack_floor.stream_seq if info.ack_floor else 0
        return self.left == 0 or (floor or 0) >= self.last_seq


async def targets(js: Any, pairs: list[tuple[str, str]]) -> list[Target]:
    out = []
    for stream, durable in pairs:
        sinfo = await js.stream_info(stream)
        info = await js.consumer_info(stream, durable)
        total = int(info.num_pending) + int(info.num_ack_pending)
        out.append(Target(stream, durable, int(sinfo.state.last_seq), total, total))
    return out


async def catch_up(js: Any, service: str, pairs: list[tuple[str, str]], metrics: Metrics,
                   poll: float = 0.05, every: float = 2.0) -> int:
    """Wait until every consumer has worked through the history it started with;
    returns how many events that was."""
    todo = await targets(js, pairs)
    total = sum(t.total for t in todo)
    if total:
        log.info("replaying history", extra={"service": service, "events": total, "consumers": {
            t.durable: t.total for t in todo}})
    started = last = time.perf_counter()
    while todo:
        for t in list(todo):
            if t.caught_up(await js.consumer_info(t.stream, t.durable)):
                todo.remove(t)
                t.left = 0
            metrics.replay_pending.labels(service, t.durable).set(t.left)
        now = time.perf_counter()
        if todo and now - last >= every:
            left = sum(t.left for t in todo)
            log.info("replay progress", extra={"service": service, "done": total - left,
                                               "left": left, "per_second": round(
                                                   (total - left) / (now - started))})
            last = now
        if todo:
            await asyncio.sleep(poll)
    if total:
        took = time.perf_counter() - started
        log.info("replay done", extra={"service": service, "events": total,
                                       "seconds": round(took, 2),
                                       "per_second": round(total / took) if took else total})
    return total
