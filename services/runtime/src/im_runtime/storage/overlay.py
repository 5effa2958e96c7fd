"""A unit of work's unsaved writes laid over what the store found: the result is what
the same `find` would return once the unit is committed (sorted, skipped and limited as
a whole, since an unsaved document may sort anywhere)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from im_runtime.storage.documents import Doc
from im_runtime.storage.filters import matches, ordered


def lay_over(committed: Iterable[Doc], mine: Mapping[str, Doc | None],
             flt: Mapping[str, Any], sort: list[tuple[str, int]] | None, skip: int,
             limit: int) -> list[Doc]:
    """`committed`: every stored document matching `flt` (asked without skip and limit);
    `mine`: the unit's changed documents by id (None: deleted)."""
    out: dict[str, Doc] = {d["_id"]: d for d in committed if d["_id"] not in mine}
    for id, changed in mine.items():
        if changed is not None and matches(changed, flt):
            out[id] = changed
    return ordered(out.values(), sort, skip, limit)
