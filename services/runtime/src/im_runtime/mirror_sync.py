"""Keeps the in-memory read models of a service's instances in step: each commit is
announced on `im.sync.<service>` (collection and id of each changed document, never its
content), and the other instances reload those documents from the database.

Core NATS, not JetStream: a notice lost while the bus is away is made good by the
periodic comparison of versions (`IM_MIRROR_RESYNC`) and by the reload on every start.
A write through one instance is visible in a read through another once its notice has
arrived and the documents are reloaded: one publish and one `find` later (milliseconds).
The notice goes out before the command's reply, on the same connection, so a read sent
after that reply reaches the other instance after the notice; it then waits for the
reload (`Mirror.hold`): whoever saw the reply reads the write."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from typing import Any

import msgspec

from contracts import subjects as subj
from contracts.platform import DocumentsChanged
from im_runtime.storage.mongo import MongoStore

log = logging.getLogger("im.mirror")
_ENC = msgspec.json.Encoder()
_DEC = msgspec.json.Decoder(DocumentsChanged)


class MirrorSync:
    def __init__(self, store: MongoStore, service: str, instance: str) -> None:
        # Its own notices come back to it: told apart by an id of this runtime's own (two
        # runtimes given one settings object share IM_INSTANCE_ID).
        self.store, self.instance = store, f"{instance}/{uuid.uuid4().hex[:8]}"
        self.subject = subj.sync(service)
        self._nc: Any = None
        self._sub: Any = None

    async def start(self, nc: Any) -> None:
        self._nc = nc
        # One subscription: nats-py hands its messages to the callback one at a time, in
        # order, so reloads apply in the order the commits were announced.
        self._sub = await nc.subscribe(self.subject, cb=self._on_notice)
        self.store.on_commit = self._announce

    async def stop(self) -> None:
        self.store.on_commit = None
        if self._sub is not None:
            with contextlib.suppress(Exception):
                await self._sub.unsubscribe()

    async def _announce(self, keys: list[tuple[str, str]]) -> None:
        if self._nc is None or self._nc.is_closed:
            return
        try:
            await self._nc.publish(self.subject, _ENC.encode(
                DocumentsChanged(instance=self.instance, keys=keys)))
        except Exception as exc:  # the commit stands; the resync makes the notice good
            log.warning("could not announce a commit to the other instances: %s", exc)

    async def _on_notice(self, msg: Any) -> None:
        try:
            notice = _DEC.decode(msg.data)
        except (msgspec.DecodeError, msgspec.ValidationError) as exc:
            log.warning("undecodable notice on %s: %s", self.subject, exc)
            return
        if notice.instance == self.instance:
            return
        # Held before the first await: a read that arrives after this notice (say, one
        # sent after the other instance's reply) waits for the reload instead of
        # answering from before the write.
        held = self.store.mirror.hold(c for c, _ in notice.keys)
        try:
            await self.store.refresh(notice.keys)
        except Exception:
            log.exception("could not reload documents another instance changed")
        finally:
            self.store.mirror.release(held)

    async def resync_every(self, seconds: float) -> None:
        while True:
            await asyncio.sleep(seconds)
            try:
                if stale := await self.store.resync():
                    log.info("read model resynchronised", extra={"documents": stale})
            except Exception:
                log.exception("read model resync failed; next run will try again")
