"""Tracing across the bus, with real processes: the gateway and three services run as
`python -m gateway` and `im run` children writing their spans to one IM_TRACE_FILE. One
HTTP request's trace id must reach every service that answered it, through
scatter-gather queries, forwarded commands and, via the outbox, the events they emit."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import msgspec
import pytest

from contracts import Actor, ServiceSection
from contracts.queries import GetResidentOverview
from gateway.auth import Tokens
from im_cli.embedded import free_port
from im_cli.testing import eventually

pytestmark = pytest.mark.flow

SERVICES = ("housing", "employment", "education")
REGISTERED = "event im.housing.resident_registered.v1"


def spans(path: Path) -> list[dict[str, Any]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def in_trace(path: Path, trace_id: str, name: str) -> dict[str, dict[str, Any]]:
    """Spans of trace `trace_id` called `name`, by the service that wrote them."""
    return {s["service"]: s for s in spans(path) if s["trace_id"] == trace_id
            and s["name"] == name}


@pytest.fixture
def traced(settings: Any, spawn: Any, tmp_path: Path) -> Iterator[tuple[str, Tokens, Path]]:
    """The gateway and SERVICES as child processes, all tracing into one file."""
    trace_file = tmp_path / "spans.jsonl"
    # Spans leave the batch processor every 50 ms instead of every 5 s.
    env = {"IM_TRACE_FILE": str(trace_file), "OTEL_BSP_SCHEDULE_DELAY": "50"}
    for name in SERVICES:
        spawn(name, **env)
    key = secrets.token_urlsafe(32)
    port = free_port()
    with open(tmp_path / "gateway.log", "ab") as log:
        gateway = subprocess.Popen(
            [sys.executable, "-m", "gateway"], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **env, "IM_NATS_URL": settings.nats_url,
                 "IM_MONGO_URL": settings.mongo_url, "IM_DB_PREFIX": settings.db_prefix,
                 "IM_GATEWAY_PORT": str(port), "IM_GATEWAY_KEY": key,
                 "IM_GATEWAY_DEADLINE_MS": "3000", "IM_LOG_FORMAT": "json"})
        try:
            yield f"http://127.0.0.1:{port}", Tokens(key.encode()), trace_file
        finally:
            gateway.terminate()
            try:
                gateway.wait(10)
            except subprocess.TimeoutExpired:
                gateway.kill()


async def test_one_request_is_one_trace_through_every_service(traced, nc):
    base, tokens, trace_file = traced
    token = tokens.mint(role="city_admin", subject="tracer")
    auth = {"Authorization": f"Bearer {token}"}
    resident = f"r-{uuid.uuid4().hex[:10]}"
    async with httpx.AsyncClient(base_url=base, headers=auth, timeout=10) as http:
        async def up() -> bool:
            try:
                return (await http.get("/health")).status_code == 200
            except httpx.TransportError:
                return False

        await eventually(up, timeout=30, interval=0.2)

        async def registered() -> httpx.Response | None:  # once housing runs
            r = await http.post("/api/v1/residents", json={
                "resident_id": resident, "given_name": "Amina", "family_name": "Haddad",
                "birth_year": 1990, "languages": ["ar"],
                "residence_status": "recognised_refugee", "arrival_date": "2025-02-01"})
            return r if r.status_code == 200 else None

        await eventually(registered, timeout=60, interval=0.3)

        async def all_answer() -> dict[str, Any] | None:
            r = await http.get(f"/api/v1/residents/{resident}")
            assert r.status_code == 200, r.text
            body: dict[str, Any] = r.json()
            return body if set(body["sections"]) == set(SERVICES) else None

        await eventually(all_answer, timeout=60, interval=0.3)
        r = await http.get(f"/api/v1/residents/{resident}")
        assert r.status_code == 200 and set(r.json()["sections"]) == set(SERVICES), r.text

    # The last GET: the gateway's server span names the route, not the resident.
    def last_get() -> dict[str, Any] | None:
        found = [s for s in spans(trace_file) if s["service"] == "gateway"
                 and s["name"] == "GET /api/v1/residents/{resident_id}"]
        return found[-1] if len(found) >= 2 else None

    server = await eventually(last_get, timeout=10)
    assert server["kind"] == "server" and server["parent_id"] is None
    assert server["attributes"]["http.response.status_code"] == 200
    trace_id = server["trace_id"]

    gathers = await eventually(lambda: in_trace(trace_file, trace_id, "gather resident_overview"))
    gather = gathers["gateway"]
    assert gather["parent_id"] == server["span_id"]
    assert sorted(gather["attributes"]["im.answered"]) == sorted(SERVICES)

    def answered() -> dict[str, dict[str, Any]] | None:
        found = in_trace(trace_file, trace_id, "query resident_overview")
        return found if set(found) >= set(SERVICES) else None

    answers = await eventually(answered, timeout=10)
    for name in SERVICES:
        assert answers[name]["kind"] == "server"
        assert answers[name]["parent_id"] == gather["span_id"], name
        assert answers[name]["attributes"]["im.service"] == name

    # The command's trace goes on through housing's outbox into the event's consumers.
    post = next(s for s in spans(trace_file) if s["service"] == "gateway"
                and s["name"] == "POST /api/v1/residents"
                and s["attributes"]["http.response.status_code"] == 200)
    handled = in_trace(trace_file, post["trace_id"], "command housing.register_resident")
    assert handled["housing"]["attributes"]["im.status"] == "ok"

    def consumed() -> dict[str, dict[str, Any]] | None:
        found = in_trace(trace_file, post["trace_id"], REGISTERED)
        return found if {"employment", "education"} <= set(found) else None

    events = await eventually(consumed, timeout=10)
    for name in ("employment", "education"):
        assert events[name]["kind"] == "consumer"
        assert events[name]["parent_id"] == handled["housing"]["span_id"]


async def test_a_malformed_traceparent_is_ignored_and_the_query_answered(traced, nc):
    _, _, trace_file = traced
    query = msgspec.json.encode(GetResidentOverview(
        resident_id=f"r-{uuid.uuid4().hex[:10]}", actor=Actor(role="city_admin", subject="t")))
    bad = "00-not-a-trace-id-01"

    async def answers() -> Any:
        try:
            msg = await nc.request("im.qry.resident_overview", query, timeout=1,
                                   headers={"traceparent": bad})
        except Exception:  # not subscribed yet
            return None
        return msg

    msg = await eventually(answers, timeout=60, interval=0.3)
    reply = msgspec.json.decode(msg.data, type=ServiceSection)  # an answer, not an error
    assert reply.service in SERVICES

    def fresh() -> list[dict[str, Any]]:
        return [s for s in spans(trace_file) if s["name"] == "query resident_overview"]

    found = await eventually(fresh, timeout=10)
    assert all(s["parent_id"] is None and len(s["trace_id"]) == 32 for s in found)
    assert all(s["trace_id"] != "0" * 32 for s in found)
