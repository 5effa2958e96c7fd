"""What read handlers (queries, `Handles(..., read=True)`) get instead of a unit of work
they could commit: the same read methods, answered from the service's mirror, and every
write refused. A read stores nothing: no processed id, no reply, no commit."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts import EventData
from im_runtime.storage.mirror import Mirror
from im_runtime.storage.unit_of_work import Doc, UnitOfWork


class ReadOnly(RuntimeError):
    """A read handler tried to write: a bug in the handler, never the caller's fault."""


class Reader(UnitOfWork):
    """Reads from `mirror` for the collections it holds; anything else (the runtime's own
    collections, which a privacy report searches) is read from `fallback`."""

    def __init__(self, mirror: Mirror, source: str, fallback: UnitOfWork | None = None) -> None:
        super().__init__(source)
        self._mirror, self._fallback = mirror, fallback

    def _mirrored(self, collection: str) -> bool:
        return self._fallback is None or collection in self._mirror.docs

    async def _load(self, collection: str, id: str) -> Doc | None:
        await self._mirror.settled(collection)
        if self._mirrored(collection):
            return self._mirror.get(collection, id)
        assert self._fallback is not None
        return await self._fallback._load(collection, id)

    async def _query(self, collection: str, flt: Mapping[str, Any],
                     sort: list[tuple[str, int]] | None, skip: int, limit: int) -> list[Doc]:
        await self._mirror.settled(collection)
        if self._mirrored(collection):
            return self._mirror.find(collection, flt, sort, skip, limit)
        assert self._fallback is not None
        return await self._fallback._query(collection, flt, sort, skip, limit)

    async def _count(self, collection: str, flt: Mapping[str, Any]) -> int:
        await self._mirror.settled(collection)
        if self._mirrored(collection):
            return self._mirror.count(collection, flt)
        assert self._fallback is not None
        return await self._fallback._count(collection, flt)

    async def tally(self, collection: str, by: str | tuple[str, ...],
                    where: Mapping[str, Any] | None = None) -> dict[Any, int]:
        await self._mirror.settled(collection)
        if self._mirrored(collection):
            return self._mirror.tally(collection, by, where)
        return await super().tally(collection, by, where)

    async def collections(self) -> list[str]:
        if self._fallback is None:
            return sorted(c for c, docs in self._mirror.docs.items() if docs)
        return await self._fallback.collections()

    # a read writes nothing
    def put(self, collection: str, doc: Doc) -> None:
        raise ReadOnly(f"a read handler tried to write {collection}")

    async def delete(self, collection: str, id: str) -> None:
        raise ReadOnly(f"a read handler tried to delete from {collection}")

    def emit(self, data: EventData) -> Any:
        raise ReadOnly(f"a read handler tried to emit {type(data).__name__}")

    def mark_processed(self, key: str, reply: bytes | None = None) -> None:
        raise ReadOnly("a read stores no processed id")

    async def commit(self) -> list[Any]:
        raise ReadOnly("a read handler tried to commit")
