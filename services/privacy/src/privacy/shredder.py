"""Removing one resident's messages from the bus so that no byte of them stays on disk.

A JetStream purge only marks messages deleted: their bytes stay in the stream's block
files until the block is compacted. Each message about the resident is therefore found
by subject and deleted with erase (`$JS.API.STREAM.MSG.DELETE` without `no_erase`),
which overwrites the record, subject and headers included, with random bytes.

nats-server also keeps a state file per stream (`msgs/index.db`) that lists every
subject; it rewrites it only every 2 minutes (and only once something changed) or on
shutdown. After the deletions the stale file is dropped at once with a purge up to the
stream's first sequence: nothing is purged, but nats-server removes the file (it
rebuilds it from the blocks). That needs a first sequence above 1, which every stream
the runtime creates has (`im_runtime.streams.FIRST_SEQ`); on an older stream still at
sequence 1 the server's own flush rewrites the file within `STATE_FLUSH` seconds."""

from __future__ import annotations

import base64
import json
import logging
from dataclasses import dataclass, field
from typing import Any

from contracts import subjects as subj

log = logging.getLogger("im.privacy.shredder")
JS_API = "$JS.API"
NO_MESSAGE = 10037  # JetStream's error code for "no message found"
# nats-server writes a changed stream's state every 2 minutes plus up to 30 s of jitter.
STATE_FLUSH = 150.0
API_TIMEOUT = 10.0


class BusError(RuntimeError):
    pass


@dataclass
class Shredded:
    """What one pass removed: messages per stream, and the streams whose state file could
    not be dropped (it goes with the server's next flush)."""

    messages: dict[str, int] = field(default_factory=dict)
    state_kept: list[str] = field(default_factory=list)


async def api(nc: Any, subject: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    reply = await nc.request(f"{JS_API}.{subject}",
                             json.dumps(body).encode() if body is not None else b"",
                             timeout=API_TIMEOUT)
    answer: dict[str, Any] = json.loads(reply.data)
    return answer


async def sequences(nc: Any, stream: str, subject: str) -> list[int]:
    """Sequences of the messages in `stream` matching `subject` (wildcards allowed)."""
    found: list[int] = []
    seq = 0
    while True:
        body = await api(nc, f"STREAM.MSG.GET.{stream}",
                         {"next_by_subj": subject, "seq": seq + 1})
        error = body.get("error")
        if error:
            if error.get("err_code") == NO_MESSAGE:
                return found
            raise BusError(f"reading {stream} failed: {error.get('description')}")
        seq = int(body["message"]["seq"])
        found.append(seq)


async def sequences_naming(nc: Any, stream: str, needle: bytes) -> list[int]:
    """Sequences of the messages in `stream` whose body holds `needle` (a volunteer's or
    staff member's id as a JSON string: their events are keyed by someone else, or by
    no one). Reads every message of the stream."""
    found: list[int] = []
    seq = 0
    while True:
        body = await api(nc, f"STREAM.MSG.GET.{stream}", {"next_by_subj": ">", "seq": seq + 1})
        error = body.get("error")
        if error:
            if error.get("err_code") == NO_MESSAGE:
                return found
            raise BusError(f"reading {stream} failed: {error.get('description')}")
        seq = int(body["message"]["seq"])
        if needle in base64.b64decode(body["message"].get("data") or b""):
            found.append(seq)


async def erase(nc: Any, stream: str, seq: int) -> bool:
    """Delete one message, overwriting its bytes; False if it was gone already."""
    body = await api(nc, f"STREAM.MSG.DELETE.{stream}", {"seq": seq, "no_erase": False})
    error = body.get("error")
    if error:
        if error.get("err_code") == NO_MESSAGE:
            return False
        raise BusError(f"erasing message {seq} of {stream} failed: "
                       f"{error.get('description')}")
    return True


async def drop_state(nc: Any, stream: str) -> bool:
    """Make nats-server drop the stream's stale state file now; False when the stream
    starts at sequence 1 and its file must wait for the server's own flush."""
    info = await api(nc, f"STREAM.INFO.{stream}")
    if "error" in info:
        raise BusError(f"stream {stream}: {info['error'].get('description')}")
    first = int(info["state"]["first_seq"])
    if first <= 1:  # a purge up to sequence 1 does nothing (and up to 2 would lose one)
        return False
    # Messages are only appended, so nothing lies below the first sequence read above:
    # this purge removes no message, only the state file.
    body = await api(nc, f"STREAM.PURGE.{stream}", {"seq": first})
    if "error" in body:
        raise BusError(f"dropping the state of {stream} failed: "
                       f"{body['error'].get('description')}")
    if body.get("purged"):
        log.error("dropping a stream's state file purged messages",
                  extra={"stream": stream, "purged": body["purged"]})
    return True


async def shred(nc: Any, streams: list[str], resident_id: str,
                also_drop: frozenset[str] = frozenset(), person: str = "resident") -> Shredded:
    """Erase every message whose subject ends in the person's id from these streams (for
    a volunteer or staff member also every message whose body names them), then drop the
    state files of the streams that held any (and of `also_drop`)."""
    done = Shredded()
    for stream in streams:
        seqs: set[int] = set()
        for flt in subj.purge_filters(resident_id):
            seqs.update(await sequences(nc, stream, flt))
        if person != "resident":
            seqs.update(await sequences_naming(nc, stream, json.dumps(resident_id).encode()))
        removed = sum([await erase(nc, stream, seq) for seq in sorted(seqs)])
        if removed:
            done.messages[stream] = removed
        if (seqs or stream in also_drop) and not await drop_state(nc, stream):
            done.state_kept.append(stream)
    return done
