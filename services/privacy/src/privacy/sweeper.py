"""Messages about a resident that reach the bus after their erasure completed (an
operator's system sending a session again, a service replaying an outbox) are dropped by
every service, but JetStream keeps them. The ledger knows erased residents only by their
one-way key; it recognises such messages by hashing the resident token of each subject
in each stream, and erases them as an erasure does (shredder.py)."""

from __future__ import annotations

import logging
from typing import Any

from contracts import subjects as subj
from im_runtime import erasure_keys
from privacy import shredder

log = logging.getLogger("im.privacy.sweeper")


async def subjects_of(nc: Any, stream: str) -> list[str]:
    """Every subject in the stream, page by page."""
    out: list[str] = []
    while True:
        info = await shredder.api(nc, f"STREAM.INFO.{stream}",
                                  {"subjects_filter": ">", "offset": len(out)})
        if "error" in info:
            raise shredder.BusError(f"stream {stream}: {info['error'].get('description')}")
        page = list((info.get("state") or {}).get("subjects") or {})
        out += page
        if not page or len(out) >= int(info.get("total") or 0):
            return out


async def sweep(nc: Any, streams: list[str], keys: set[str]) -> dict[str, int]:
    """Erase the messages about residents whose erasure key is in `keys`: stream ->
    messages erased."""
    erased: dict[str, int] = {}
    if not keys:
        return erased
    for stream in streams:
        late = [s for s in await subjects_of(nc, stream)
                if (rid := subj.resident_of(s)) is not None and erasure_keys.key(rid) in keys]
        if not late:
            continue
        seqs = sorted({seq for s in late for seq in await shredder.sequences(nc, stream, s)})
        removed = sum([await shredder.erase(nc, stream, seq) for seq in seqs])
        await shredder.drop_state(nc, stream)
        if removed:
            erased[stream] = removed
    if erased:
        log.warning("messages about erased residents reached the bus late; erased them",
                    extra={"streams": erased})
    return erased
