"""Operators' events over the real bus: raw CloudEvents JSON published with plain nats-py
is stored and answered; whatever crosses the trust boundary wrongly, or is malformed or
too large, is dead-lettered with its reason; a note's text never leaves counselling."""

from __future__ import annotations

import json
import logging
import uuid
from datetime import date

import pytest
from nats.js.errors import BadRequestError

from contracts import Actor
from contracts import subjects as subj
from contracts.queries import GetCityStats, GetResidentOverview, GetSiteOverview
from im_cli.testing import eventually

from .conftest import publish_raw, raw_event, settled, stream_bodies

pytestmark = pytest.mark.integration
TODAY = date.today().isoformat()


def session_data(rid: str, site: str, category: str = "social_law", **kw) -> dict:
    return {"type": "im.operator.session_recorded.v1", "resident_id": rid, "site_id": site,
            "session_id": f"s-{uuid.uuid4().hex[:8]}", "category": category, "held_on": TODAY,
            "duration_minutes": 40, "interpreter": True, "counsellor": "sw-k7", **kw}


async def test_a_raw_cloudevent_from_plain_nats_is_stored_and_answered(counselling, nc, ask,
                                                                      shelter):
    operator = f"op-{uuid.uuid4().hex[:6]}"
    site, rid = await shelter(operator)
    event = raw_event(operator, session_data(rid, site, follow_up_on="2026-12-01"))
    await publish_raw(nc, subj.operator_event(operator, "session_recorded", rid),
                      json.dumps(event).encode(), event["id"])

    async def overview():
        section, _ = await ask(GetResidentOverview(resident_id=rid))
        return section

    view = await eventually(overview)
    assert view["cases"][0]["sessions_by_category"] == {"social_law": 1}
    assert view["cases"][0]["open_follow_ups"] == [{"category": "social_law",
                                                    "due": "2026-12-01"}]
    assert view["sessions"][0]["interpreter"] is True


def _case(kind: str, operator: str, site: str, rid: str) -> tuple[str, bytes, str, str]:
    """(subject, body, event id, reason fragment) of one bad operator event."""
    good = raw_event(operator, session_data(rid, site))
    subject = subj.operator_event(operator, "session_recorded", rid)
    if kind == "other_operators_site":
        subject = subj.operator_event("op-intruder", "session_recorded", rid)
        event = raw_event("op-intruder", session_data(rid, site))
        return (subject, json.dumps(event).encode(), event["id"],
                f"rejected: site '{site}' is not run by operator 'op-intruder'")
    if kind == "source_mismatch":
        event = raw_event(operator, session_data(rid, site), source="op-somebody-else")
        return (subject, json.dumps(event).encode(), event["id"],
                f"untrusted: subject is for operator '{operator}' but the event's source "
                f"is 'op-somebody-else'")
    if kind == "malformed":
        return (subject, b'{"specversion": "1.0", "id": "' + good["id"].encode() + b'", oops',
                good["id"], "malformed: JSON is malformed")
    if kind == "unknown_category":
        event = raw_event(operator, session_data(rid, site, category="astrology"))
        return (subject, json.dumps(event).encode(), event["id"],
                "malformed: Invalid enum value 'astrology' - at `$.data.category`")
    if kind == "unknown_type":
        event = raw_event(operator, {**session_data(rid, site),
                                     "type": "im.operator.horoscope_cast.v1"})
        event["type"] = "im.operator.horoscope_cast.v1"
        return (subj.operator_event(operator, "horoscope_cast", rid),
                json.dumps(event).encode(), event["id"], "malformed: Invalid value")
    if kind == "event_token_mismatch":  # a case note sent as a session
        event = raw_event(operator, {"type": "im.operator.case_note_recorded.v1",
                                     "resident_id": rid, "site_id": site, "note_id": "n-x",
                                     "written_on": TODAY, "text": "private"})
        return (subject, json.dumps(event).encode(), event["id"],
                "untrusted: subject is for event 'session_recorded' but the body is a "
                "'im.operator.case_note_recorded.v1'")
    assert kind == "oversize"
    event = raw_event(operator, {"type": "im.operator.case_note_recorded.v1",
                                 "resident_id": rid, "site_id": site, "note_id": "n-big",
                                 "written_on": TODAY, "text": "x" * 19_000})
    event["padding"] = "y" * 70_000  # still far below NATS's own 1 MB limit
    body = json.dumps(event).encode()
    subject = subj.operator_event(operator, "case_note_recorded", rid)
    return subject, body, event["id"], f"malformed: message of {len(body)} bytes exceeds 65536"


@pytest.mark.parametrize("kind", ["other_operators_site", "source_mismatch", "malformed",
                                  "unknown_category", "oversize", "unknown_type",
                                  "event_token_mismatch"])
async def test_bad_operator_events_are_dead_lettered_with_the_reason(
        counselling, nc, ask, shelter, dead_letters, kind):
    operator = f"op-{uuid.uuid4().hex[:6]}"
    site, rid = await shelter(operator)
    subject, body, event_id, reason = _case(kind, operator, site, rid)
    if kind == "oversize":  # the operators' stream refuses it first (64 KiB), with the reason
        with pytest.raises(BadRequestError, match="message size exceeds maximum"):
            await publish_raw(nc, subject, body, event_id)
    else:
        await publish_raw(nc, subject, body, event_id)
        dead = await dead_letters.of(event_id)
        assert reason in dead.reason
        assert dead.subject == subject and dead.service == "counselling"
        # Bodies may carry notes: the dead letter withholds them.
        assert dead.body_encoding == "redacted" and "private" not in dead.body
    await eventually(lambda: settled(nc, "operator"))
    section, _ = await ask(GetResidentOverview(resident_id=rid))
    assert not section  # nothing stored
    # ... and the service keeps running: a good event after the bad one is taken.
    good = raw_event(operator, session_data(rid, site))
    await publish_raw(nc, subj.operator_event(operator, "session_recorded", rid),
                      json.dumps(good).encode(), good["id"])
    await eventually(lambda: _has_case(ask, rid))


async def _has_case(ask, rid: str) -> bool:
    section, _ = await ask(GetResidentOverview(resident_id=rid))
    return bool(section and section["cases"])


async def test_a_notes_text_never_leaves_counselling(counselling, nc, ask, shelter, caplog):
    caplog.set_level(logging.DEBUG)
    operator = f"op-{uuid.uuid4().hex[:6]}"
    site, rid = await shelter(operator)
    secret = f"confidential-{uuid.uuid4().hex}"
    note = raw_event(operator, {"type": "im.operator.case_note_recorded.v1",
                                "resident_id": rid, "site_id": site, "note_id": "n-1",
                                "written_on": TODAY, "category": "health",
                                "text": f"Told me about {secret} in confidence."})
    await publish_raw(nc, subj.operator_event(operator, "case_note_recorded", rid),
                      json.dumps(note).encode(), note["id"])
    ev = raw_event(operator, session_data(rid, site, "health", referral="volunteers"))
    await publish_raw(nc, subj.operator_event(operator, "session_recorded", rid),
                      json.dumps(ev).encode(), ev["id"])
    await eventually(lambda: _has_case(ask, rid))
    stored = await counselling.store.db["notes"].find_one({"resident_id": rid})
    assert secret in stored["text"]  # kept, in counselling's own database

    answers = []
    for actor in (Actor(subject="a", role="city_admin"),
                  Actor(subject="o", role="operator", operator=operator)):
        answers.append((await ask(GetResidentOverview(resident_id=rid, actor=actor)))[1])
    answers.append((await ask(GetSiteOverview(site_id=site)))[1])
    answers.append((await ask(GetCityStats()))[1])
    assert all(secret.encode() not in a for a in answers)
    for stream in (subj.event_stream("counselling"), subj.FEEDBACK_STREAM, subj.DLQ_STREAM):
        for subject, body in await stream_bodies(nc, stream):
            assert secret.encode() not in body, (stream, subject)
    logged = [r.getMessage() + repr(vars(r)) for r in caplog.records]
    assert logged and not [line for line in logged if secret in line]
