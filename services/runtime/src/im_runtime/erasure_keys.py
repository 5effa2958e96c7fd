"""The keys erased residents are known by, made with the platform's erasure secret.

A resident id is short (a few dozen bits): a plain hash of it is reversed by trying every
id, or simply every id on a list a user already holds. With the secret (an HMAC, see
`contracts.privacy.keyed`) a key tells nothing to whoever lacks it. Every process that
makes or compares keys holds the same secret (IM_ERASURE_SECRET, or the file named by
IM_ERASURE_SECRET_FILE; `im up` creates var/erasure.key), set once per process here
from its settings. It must not change once keys are stored: they would stop matching.

Without a secret (a development bus) keys stay the legacy hash. Keys stored before a
secret was configured are upgraded where they are kept (`migrate`) and wherever they
are read (`upgrade`), since the new key is made from the old one."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from contracts.privacy import KEYED, keyed, legacy_erasure_key

MIN_SECRET_BYTES = 32
ERASED = "im_erased"  # the runtime's record of residents erased here (im_runtime.storage.mongo)

_secret: bytes | None = None


def use(secret: bytes | None) -> None:
    """The secret of this process (every runtime and the gateway call it at start)."""
    global _secret
    _secret = secret


def key(resident_id: str) -> str:
    legacy = legacy_erasure_key(resident_id)
    return keyed(legacy, _secret) if _secret else legacy


def upgrade(stored: str) -> str:
    """A stored key as it is known now (a legacy one made keyed; a keyed one as it is)."""
    return keyed(stored, _secret) if _secret and not stored.startswith(KEYED) else stored


def upgrade_all(stored: Iterable[str]) -> set[str]:
    return {upgrade(k) for k in stored}


async def migrate(store: Any, service: str) -> int:
    """Rewrite this service's record of erased residents under keyed ids (one commit)."""
    if not _secret:
        return 0
    uow = store.unit_of_work(service)
    old = [d for d in await uow.find(ERASED) if not str(d["_id"]).startswith(KEYED)]
    for doc in old:
        await uow.delete(ERASED, doc["_id"])
        fields = {k: v for k, v in doc.items() if k != "_v"}  # _v: the old one's version
        uow.put(ERASED, {**fields, "_id": upgrade(doc["_id"])})
    if old:
        await uow.commit()
    return len(old)
