"""Messages of the platform itself, shared by every service."""

from __future__ import annotations

from datetime import datetime

import msgspec

from contracts._base import Struct


class DeadLetter(Struct):
    """What a service publishes on `im.dlq.<service>` for a message it gave up on."""

    service: str
    reason: str
    subject: str
    stream: str | None = None
    stream_seq: int | None = None
    deliveries: int = 1
    headers: dict[str, str] = {}
    # The original body, exactly as received (it may not be valid JSON).
    body: str
    body_encoding: str = "utf-8"
    failed_at: datetime


class DocumentsChanged(Struct):
    """What an instance of a service tells its other instances on `im.sync.<service>`
    after a commit: which documents changed (collection and id; never their content),
    so that their in-memory read models reload them from the service's database."""

    instance: str
    keys: list[tuple[str, str]]


# Structs carried on the bus that are neither events, commands, queries nor replies.
RECORDS: tuple[type[msgspec.Struct], ...] = (DeadLetter, DocumentsChanged)
