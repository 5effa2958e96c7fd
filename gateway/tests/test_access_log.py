"""The gateway's access log names the route template, never the path or the query: a
resident's id in the path and a name searched for stay out of the logs (issue #18, 9).
uvicorn's own access log, which writes both, is off (`python -m gateway`); the embedded
stack's log files are scanned in tests/privacy/test_erasure_on_disk.py."""

from __future__ import annotations

import logging

import pytest

from housing.plugin import spec as housing_spec

pytestmark = pytest.mark.flow


class Kept(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_requests_are_logged_by_route_template_without_ids_or_names(servers, kit) -> None:
    settings = kit.settings_for(servers)
    resident = kit.rid("r")
    kept, root = Kept(), logging.getLogger()
    async with kit.running(housing_spec, settings=settings), \
            kit.gateway_for(settings, deadline=0.5) as gw:
        root.addHandler(kept)  # after startup, which sets the root's handlers
        level, root.level = root.level, logging.INFO
        try:
            await gw.get(f"/api/v1/residents/{resident}")
            await gw.get("/api/v1/residents?q=Amirasearched")
        finally:
            root.removeHandler(kept)
            root.setLevel(level)
    lines = [r.getMessage() for r in kept.records if r.name == "im.gateway.access"]
    assert any(line.startswith("GET /api/v1/residents/{resident_id") for line in lines), lines
    assert any(line.startswith("GET /api/v1/residents ") for line in lines), lines
    # what the gateway's side logged (the test client's own httpx lines aside)
    logged = "\n".join(r.getMessage() + str(vars(r)) for r in kept.records
                       if not r.name.startswith("httpx"))
    assert resident not in logged and "Amirasearched" not in logged
