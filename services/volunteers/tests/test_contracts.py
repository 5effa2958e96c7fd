"""The volunteers' own contracts: every message has a stored example of each version
(examples/<name>@<n>.json), and every stored example still decodes strictly."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import msgspec
import pytest

from contracts import CloudEvent, event_type, wrap
from volunteers import contracts as c

pytestmark = pytest.mark.unit
EXAMPLES = Path(__file__).parent.parent / "examples"
ON = date(2026, 3, 2)


def messages() -> dict[str, Any]:
    out: dict[str, Any] = {event_type(t): CloudEvent[t]  # type: ignore[valid-type]
                           for t in c.EVENTS}
    out.update({f"volunteers.contracts.{t.__name__}": t for t in c.COMMANDS})
    return out


def test_every_message_has_a_stored_example():
    stored = {p.name.split("@")[0] for p in EXAMPLES.glob("*.json")}
    missing = set(messages()) - stored
    assert not missing, f"run this file as a script to store examples for {missing}"


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.name)
def test_stored_examples_still_decode(path: Path):
    kind = messages()[path.name.split("@")[0]]
    msgspec.json.decode(path.read_bytes(), type=kind, strict=True)


def samples() -> list[tuple[str, Any]]:
    """The first version's examples (run once to write them; never rewritten)."""
    who = {"resident_id": "r1", "match_id": "m1", "volunteer_id": "v1"}
    ref = {"referral_id": "ref1", "resident_id": "r1", "operator_id": "op1",
           "topic": "volunteers"}
    events = [
        c.VolunteerRegistered(volunteer_id="v1", languages=["ar"], districts=["List"],
                              offers=["accompaniment"], capacity=2, background_check_on=ON),
        c.SupportRequested(resident_id="r1", request_id="rq1", referral_id="ref1"),
        c.MatchProposed(**who, offer="language_tandem", request_id="rq1"),
        c.MatchAgreed(**who), c.MatchStarted(**who),
        c.MatchEnded(**who, was="active", outcome="completed", rating=5),
        c.VolunteersReferralAccepted(**ref, reference="m1"),  # type: ignore[arg-type]
        c.VolunteersReferralRejected(**ref, reason="none"),  # type: ignore[arg-type]
    ]
    out: list[tuple[str, Any]] = [(event_type(type(e)), wrap(e, source="volunteers"))
                                  for e in events]
    commands = [
        c.RegisterVolunteer(volunteer_id="v1", name="Hanna", districts=["List"],
                            offers=["mentoring"]),
        c.GetVolunteer(volunteer_id="v1"),
        c.ProposeMatch(volunteer_id="v1", resident_id="r1", offer="mentoring"),
        c.AgreeMatch(match_id="m1"), c.StartMatch(match_id="m1"),
        c.EndMatch(match_id="m1", outcome="completed", rating=4),
        c.VolunteerView(volunteer_id="v1", name="Hanna", languages=[], skills=[],
                        districts=["List"], availability=[], offers=["mentoring"],
                        capacity=1, load=0),
        c.MatchView(match_id="m1", volunteer_id="v1", resident_id="r1", offer="mentoring",
                    state="proposed"),
        c.ListVolunteers(offer="language_tandem", free_only=True, limit=20),
        c.VolunteerPage(items=[c.VolunteerView(
            volunteer_id="v1", name="Hanna", languages=["ar"], skills=[], districts=["List"],
            availability=[], offers=["language_tandem"], capacity=2, load=1)], total=1,
            offset=0, limit=20),
    ]
    out += [(f"volunteers.contracts.{type(m).__name__}", m) for m in commands]
    return out


if __name__ == "__main__":
    EXAMPLES.mkdir(exist_ok=True)
    for name, message in samples():
        path = EXAMPLES / f"{name}@1.json"
        if not path.exists():
            path.write_bytes(msgspec.json.format(msgspec.json.encode(message)) + b"\n")
