"""The right of access (Art. 15 GDPR): every service answers the `resident_export` query
with what it holds about the resident, whatever its plugin declares. The runtime answers
from the documents keyed by the resident or naming them as `resident_id`, in every
collection of the service's database, as the default erasure finds them."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from contracts.privacy import GetResidentExport
from im_runtime.errors import Forbidden
from im_runtime.unit_of_work import UnitOfWork

EXPORTERS = ("city_admin", "system")


async def resident_export(query: GetResidentExport, uow: UnitOfWork
                          ) -> Mapping[str, Any] | None:
    if query.actor.role not in EXPORTERS:
        raise Forbidden("only city administrators may export a resident's data")
    from im_runtime.privacy import RUNTIME_COLLECTIONS  # (it imports this module)

    rid = query.resident_id
    out: dict[str, list[dict[str, Any]]] = {}
    for collection in sorted(await uow.collections()):
        if collection in RUNTIME_COLLECTIONS:
            continue
        found = {d["_id"]: d for d in await uow.find(collection, {"resident_id": rid})}
        own = await uow.get(collection, rid)
        if own is not None:
            found[rid] = own
        if found:
            out[collection] = [_shown(doc) for _, doc in sorted(found.items(),
                                                                 key=lambda kv: str(kv[0]))]
    if not out:
        return None  # holds nothing about them: no section
    return {"collections": out, "documents": sum(len(v) for v in out.values())}


def _shown(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The document as data (dates as text), without the runtime's bookkeeping fields."""
    from im_runtime.privacy import _plain

    plain: dict[str, Any] = _plain({k: v for k, v in doc.items()
                                    if k == "_id" or not k.startswith("_")})
    return plain
