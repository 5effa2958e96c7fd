"""The right of access (Art. 15 GDPR): every service answers the `resident_export` query
with what it holds about the resident, whatever its plugin declares. The runtime answers
from the documents keyed by the resident or naming them as `resident_id`, in every
collection of the service's database, as the default erasure finds them; a service whose
documents name people otherwise gives its own `export=` hook in its spec (housing: the
household with its members)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from contracts.privacy import GetResidentExport
from im_runtime.errors import Forbidden
from im_runtime.unit_of_work import UnitOfWork

if TYPE_CHECKING:
    from im_runtime.spec import ServiceSpec

EXPORTERS = ("city_admin", "system")


def handler(spec: ServiceSpec) -> Any:
    """The `resident_export` answer of this service: its hook's documents, or the default."""
    hook = spec.export or documents_about

    async def resident_export(query: GetResidentExport, uow: UnitOfWork
                              ) -> Mapping[str, Any] | None:
        if query.actor.role not in EXPORTERS:
            raise Forbidden("only city administrators may export a resident's data")
        found = {c: docs for c, docs in (await hook(query.resident_id, uow)).items() if docs}
        if not found:
            return None  # holds nothing about them: no section
        out = {c: [_shown(d) for d in docs] for c, docs in sorted(found.items())}
        return {"collections": out, "documents": sum(len(v) for v in out.values())}
    return resident_export


async def documents_about(rid: str, uow: UnitOfWork) -> dict[str, list[dict[str, Any]]]:
    """The default: collection -> the documents keyed by the resident or naming them as
    `resident_id` (what the default erasure removes), in order of their ids."""
    from im_runtime.privacy import RUNTIME_COLLECTIONS  # (it imports this module)

    out: dict[str, list[dict[str, Any]]] = {}
    for collection in sorted(await uow.collections()):
        if collection in RUNTIME_COLLECTIONS:
            continue
        found = {d["_id"]: d for d in await uow.find(collection, {"resident_id": rid})}
        own = await uow.get(collection, rid)
        if own is not None:
            found[rid] = own
        if found:
            out[collection] = [doc for _, doc in sorted(found.items(), key=lambda kv: str(kv[0]))]
    return out


def _shown(doc: Mapping[str, Any]) -> dict[str, Any]:
    """The document as data (dates as text), without the runtime's bookkeeping fields."""
    from im_runtime.privacy import _plain

    plain: dict[str, Any] = _plain({k: v for k, v in doc.items()
                                    if k == "_id" or not k.startswith("_")})
    return plain
