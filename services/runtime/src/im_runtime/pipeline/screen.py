"""The pipeline's first steps for a batch of events: decode (size-checked, strict),
check operators' events against their subject, drop events about erased residents, and
skip ids already handled. What is malformed or untrusted is dead-lettered here."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from nats.aio.msg import Msg

from contracts import MAX_MESSAGE_BYTES, CloudEvent, EventData
from im_runtime.deadletter import DeadLetters
from im_runtime.metrics import Metrics
from im_runtime.pipeline.decode import DECODE_ERRORS, decode_event, event_decoder
from im_runtime.privacy import ErasedKeys
from im_runtime.storage import Store

Todo = list[tuple[Msg, CloudEvent[Any]]]
Verify = Callable[[Msg, CloudEvent[Any]], str | None]


class Screen:
    def __init__(self, *, service: str, store: Store, types: Sequence[type[EventData]],
                 dead: DeadLetters, metrics: Metrics, max_bytes: int = MAX_MESSAGE_BYTES,
                 verify: Verify | None = None, erased: ErasedKeys | None = None) -> None:
        self.service, self.store, self.dead, self.metrics = service, store, dead, metrics
        self.max_bytes, self.verify, self.erased = max_bytes, verify, erased
        self.decoder = event_decoder(types)

    async def __call__(self, msgs: list[Msg]) -> Todo:
        todo: Todo = []
        for msg in msgs:
            try:
                event = decode_event(self.decoder, msg.data, self.max_bytes)
            except DECODE_ERRORS as exc:
                await self.dead.send(msg, f"malformed: {exc}", "malformed")
                continue
            untrusted = self.verify(msg, event) if self.verify else None
            if untrusted:
                await self.dead.send(msg, f"untrusted: {untrusted}", "untrusted")
                continue
            todo.append((msg, event))
        todo, gone = self.erased.split(todo) if self.erased else (todo, [])
        for msg in gone:
            self.metrics.erased_dropped.labels(self.service).inc()
            await msg.ack()
        # A first delivery is almost never a duplicate: skip the look-up and let the
        # unique processed id in the commit catch the rare one (then look up and retry).
        return await self.unseen(todo, any(deliveries(m) > 1 for m, _ in todo))

    async def unseen(self, todo: Todo, look_up: bool) -> Todo:
        """`todo` without the events handled before (acked as duplicates) or twice in it."""
        seen = await self.store.processed_ids([e.id for _, e in todo]) if look_up else {}
        fresh: Todo = []
        batch_ids: set[str] = set()
        for msg, event in todo:
            if event.id in seen or event.id in batch_ids:
                self.metrics.duplicates.labels(self.service).inc()
                await msg.ack()
            else:
                batch_ids.add(event.id)
                fresh.append((msg, event))
        return fresh


def deliveries(msg: Msg) -> int:
    """From the ack subject's delivery count alone: `msg.metadata` parses all of it (and a
    timestamp), a measurable share of consuming a batch. 2 when it cannot be read."""
    if not msg.reply or not msg.reply.startswith("$JS.ACK."):
        return 2
    tokens = msg.reply.split(".")
    at = 4 if len(tokens) == 9 else Msg.Ack.NumDelivered  # v1 or v2 (domain, account) form
    if len(tokens) <= at or not tokens[at].isdigit():
        return 2
    return int(tokens[at])
