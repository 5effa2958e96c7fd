"""Messages about a resident that reach the bus after their erasure completed (an
operator's system sending a session again, a service replaying an outbox) are dropped by
every service, but JetStream keeps them. The ledger knows erased residents only by their
one-way key; it recognises such messages by hashing the resident token of each subject
in each stream, and erases them as an erasure does (shredder.py).

An erased volunteer or staff member is not in any subject (their events are keyed by a
resident, or by no one): the messages that reached a stream since the last sweep (a
cursor per stream) are read, and those whose body holds an id-shaped string with an
erased volunteer's or staff member's key are erased too."""

from __future__ import annotations

import base64
import logging
from typing import Any

import msgspec

from contracts import subjects as subj
from im_runtime import erasure_keys
from im_runtime.privacy import ids_in
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


async def last_seq(nc: Any, stream: str) -> int:
    info = await shredder.api(nc, f"STREAM.INFO.{stream}")
    if "error" in info:
        raise shredder.BusError(f"stream {stream}: {info['error'].get('description')}")
    return int(info["state"]["last_seq"])


async def sweep_bodies(nc: Any, stream: str, people: set[str], since: int, until: int
                       ) -> int:
    """Erase the messages in `stream` after sequence `since` up to `until` whose body
    names a person whose erasure key is in `people`; how many."""
    removed = 0
    seq = since
    while people and seq < until:
        body = await shredder.api(nc, f"STREAM.MSG.GET.{stream}",
                                  {"next_by_subj": ">", "seq": seq + 1})
        error = body.get("error")
        if error:
            if error.get("err_code") == shredder.NO_MESSAGE:
                break
            raise shredder.BusError(f"reading {stream} failed: {error.get('description')}")
        seq = int(body["message"]["seq"])
        if seq > until:
            break
        if names_one_of(base64.b64decode(body["message"].get("data") or b""), people):
            removed += await shredder.erase(nc, stream, seq)
    if removed:
        await shredder.drop_state(nc, stream)
    return removed


def names_one_of(message: bytes, people: set[str]) -> bool:
    try:
        decoded = msgspec.json.decode(message)
    except msgspec.DecodeError:  # not ours to judge (no service reads it either)
        return False
    return any(erasure_keys.key(s) in people for s in ids_in(decoded))
