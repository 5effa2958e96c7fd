"""The audit of reads is written in batches: concurrent reads share one insert, each read
returns only once its entries are stored, and a batch that cannot be written fails every
read in it (the route answers 503: no unrecorded read)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from contracts import Actor
from gateway.audit import AuditLog
from gateway.errors import ApiError
from im_cli.embedded import free_port

pytestmark = pytest.mark.integration
READER = Actor(subject="sw-1", role="social_worker", sites=("s1",))


async def test_concurrent_reads_share_batches_and_each_waits_for_its_own(servers):
    log = AuditLog(servers.mongo_url, f"audit{uuid.uuid4().hex[:8]}")
    await log.open()
    try:
        ids = [f"r{i:03d}" for i in range(300)]
        await asyncio.gather(*(log.record(READER, [rid], action="resident_overview",
                                          sections=["housing"]) for rid in ids))
        # every read returned only after its entry was stored: all are there now
        entries, total = await log.find(resident=None, subject="sw-1", offset=0, limit=500)
        assert total == 300 and {e.resident_id for e in entries} == set(ids)
        assert 1 <= log.batches < 300  # shared: far fewer writes than reads
        # a lone read is written at once, in a batch of its own
        before = log.batches
        await log.record(READER, ["r-lone"], action="resident_overview", sections=[])
        assert log.batches == before + 1
    finally:
        await log.close()


async def test_a_batch_that_cannot_be_written_fails_every_read_in_it():
    # nothing listens on this port: the insert fails after the server selection timeout
    log = AuditLog(f"mongodb://127.0.0.1:{free_port()}", "audit_down")
    await log.open()
    try:
        results = await asyncio.gather(
            *(log.record(READER, [f"r{i}"], action="resident_overview", sections=[])
              for i in range(20)), return_exceptions=True)
        assert all(isinstance(r, ApiError) and r.code == "unavailable" for r in results)
        assert log.batches == 0
    finally:
        await log.close()
