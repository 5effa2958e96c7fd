"""The port every store implements: the MongoDB adapter (`mongo.MongoStore`) and the
in-memory one of unit tests (`memory.MemoryStore`). The pipeline, the endpoints, the
outbox relay and the privacy hooks are written against this, never against an adapter."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from im_runtime.storage.documents import Doc

if TYPE_CHECKING:
    from im_runtime.storage.reader import Reader
    from im_runtime.storage.unit_of_work import UnitOfWork

# One committed change: (collection, id, new document or None when deleted, version read
# or None when new), as `UnitOfWork.changes()` gives them.
Change = tuple[str, str, "Doc | None", "int | None"]


class Store(Protocol):
    def unit_of_work(self, source: str) -> UnitOfWork:
        """A unit of work whose events come from `source` (the service)."""
        ...

    def reader(self, source: str) -> Reader:
        """A read-only view for queries and read commands (nothing is stored)."""
        ...

    async def processed_ids(self, ids: list[str]) -> dict[str, bytes | None]:
        """Which of these message ids were handled, with the reply stored for each."""
        ...

    async def erased_keys(self, people: bool = False) -> set[str]:
        """Erasure keys of the people erased here (`people`: only volunteers and staff)."""
        ...

    async def scrub_replies(self, terms: list[str]) -> int:
        """Forget stored replies (and command records) that mention any of `terms`."""
        ...

    async def pending_outbox(self, limit: int) -> list[dict[str, Any]]:
        """Outbox entries not yet published, oldest first."""
        ...

    async def remove_outbox(self, ids: list[str]) -> None:
        """Entries the bus has taken."""
        ...
