"""`im publish`: strict checks before sending, wrapping bare data, the subject it picks."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from im_cli.publish import PublishError, prepare

pytestmark = pytest.mark.unit
DATA = {"type": "im.operator.session_recorded.v1", "resident_id": "r-1", "site_id": "s-1",
        "session_id": "s-9", "category": "health", "held_on": "2026-03-24",
        "duration_minutes": 30, "counsellor": "sw-1"}


def test_bare_data_is_wrapped_with_the_operator_as_source():
    p = prepare(json.dumps(DATA).encode(), "op-a")
    assert p.subject == "im.ops.op-a.session_recorded.r-1"
    event = json.loads(p.body)
    assert event["source"] == "op-a" and event["id"] == p.id and event["subject"] == "r-1"


def test_a_whole_cloudevent_is_sent_as_it_is():
    event = {"specversion": "1.0", "id": "e1", "source": "op-a", "type": DATA["type"],
             "time": "2026-03-24T10:00:00Z", "subject": "r-1",
             "datacontenttype": "application/json", "data": DATA}
    raw = json.dumps(event).encode()
    p = prepare(raw, "op-a")
    assert (p.subject, p.id, p.body) == ("im.ops.op-a.session_recorded.r-1", "e1", raw)
    with pytest.raises(PublishError, match="source is 'op-a', not operator 'op-b'"):
        prepare(raw, "op-b")
    with pytest.raises(PublishError, match="must be the resident id"):
        prepare(json.dumps({**event, "subject": "r-2"}).encode(), "op-a")


@pytest.mark.parametrize(("change", "message"), [
    ({"category": "astrology"}, "Invalid enum value 'astrology'"),
    ({"type": "im.operator.nothing.v1"}, "Invalid value 'im.operator.nothing.v1'"),
    ({"duration_minutes": 0}, "Expected `int` >= 1"),
])
def test_an_event_the_platform_would_refuse_is_not_sent(change, message):
    with pytest.raises(PublishError, match=message):
        prepare(json.dumps({**DATA, **change}).encode(), "op-a")


def test_oversize_is_refused():
    note = {"type": "im.operator.case_note_recorded.v1", "resident_id": "r", "site_id": "s",
            "note_id": "n", "written_on": "2026-03-24", "text": "x" * 100}
    with pytest.raises(PublishError, match="exceeds the limit of 64"):
        prepare(json.dumps(note).encode(), "op-a", max_bytes=64)


def test_the_command_line_checks_and_reports_without_sending():
    ok = subprocess.run([sys.executable, "-m", "im_cli.main", "publish", "--dry-run",
                         "--operator", "op-a"], input=json.dumps(DATA), capture_output=True,
                        text=True)
    assert ok.returncode == 0 and "im.ops.op-a.session_recorded.r-1" in ok.stdout
    bad = subprocess.run([sys.executable, "-m", "im_cli.main", "publish", "--dry-run"],
                         input=json.dumps(DATA), capture_output=True, text=True)
    assert bad.returncode == 2 and "needs --operator" in bad.stderr
