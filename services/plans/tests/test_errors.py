"""Bad input through the command endpoint the runtime builds from the spec: each gets
its exact error reply, and nothing is stored."""

from __future__ import annotations

from typing import Any

import msgspec
import pytest

from contracts import MAX_MESSAGE_BYTES
from im_runtime.memory import MemoryStore
from im_runtime.metrics import Metrics
from im_runtime.pipeline.endpoints import CommandEndpoint
from plans.plugin import spec

pytestmark = pytest.mark.unit
ADMIN = {"subject": "admin-1", "role": "city_admin"}


class NoRelay:
    def notify(self) -> None:
        pass


def endpoint(store: MemoryStore, name: str) -> CommandEndpoint:
    route = next(r for r in spec.commands if r.name == name)
    return CommandEndpoint(service="plans", route=route, store=store,
                           relay=NoRelay(), metrics=Metrics("plans"))  # type: ignore[arg-type]


async def answer(store: MemoryStore, name: str, body: Any) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else msgspec.json.encode(body)
    before = msgspec.json.encode(store.collections)
    reply = msgspec.json.decode(await endpoint(store, name)(raw))
    assert msgspec.json.encode(store.collections) == before  # nothing stored
    return reply  # type: ignore[no-any-return]


@pytest.fixture
async def world(store: MemoryStore, helpers: Any) -> MemoryStore:
    await helpers.household(store, "h1", ["r1"])
    return store


GOAL = {"field": "language", "title": "Deutsch", "responsible": {"party": "resident"}}


@pytest.mark.parametrize(("name", "body", "message"), [
    ("create_plan", b"{not json", "invalid create_plan: JSON is malformed: object keys must "
     "be strings (byte 1)"),
    ("create_plan", {"actor": ADMIN}, "invalid create_plan: Object missing required field "
     "`household_id`"),
    ("create_plan", {"actor": ADMIN, "household_id": 7}, "invalid create_plan: Expected "
     "`str`, got `int` - at `$.household_id`"),
    ("create_plan", {"actor": ADMIN, "household_id": "h 1"}, "invalid create_plan: Expected "
     "`str` matching regex '^[A-Za-z0-9_-]{1,64}$' - at `$.household_id`"),
    ("add_goal", {"actor": ADMIN, "plan_id": "p1", "goal": {**GOAL, "field": "leisure"}},
     "invalid add_goal: Invalid enum value 'leisure' - at `$.goal.field`"),
    ("link_goal", {"actor": ADMIN, "goal_id": "p1-g1", "link": {"fact": "lottery_won"}},
     "invalid link_goal: Invalid enum value 'lottery_won' - at `$.link.fact`"),
    ("add_goal", {"actor": ADMIN, "plan_id": "p1", "goal": {**GOAL, "title": "x" * 201}},
     "invalid add_goal: Expected `str` of length <= 200 - at `$.goal.title`"),
    ("record_review", {"actor": ADMIN, "plan_id": "p1", "on": "yesterday",
                       "outcome": "on_track"},
     "invalid record_review: Invalid RFC3339 encoded date - at `$.on`"),
])
async def test_malformed_and_wrong_types_are_bad_requests(world, name, body, message):
    reply = await answer(world, name, body)
    assert (reply["status"], reply["code"], reply["message"]) == ("error", "bad_request",
                                                                  message)


async def test_oversize_is_refused_before_decoding(world):
    body = msgspec.json.encode({"actor": ADMIN, "household_id": "h1",
                                "padding": "x" * MAX_MESSAGE_BYTES})
    reply = await answer(world, "create_plan", body)
    assert reply["message"] == (f"invalid create_plan: message of {len(body)} bytes exceeds "
                                f"the limit of {MAX_MESSAGE_BYTES}")


async def test_too_many_goals_is_refused_by_the_contract(world):
    reply = await answer(world, "create_plan", {"actor": ADMIN, "household_id": "h1",
                                                "goals": [GOAL] * 51})
    assert reply["message"] == ("invalid create_plan: Expected `array` of length <= 50 - at "
                                "`$.goals`")


@pytest.mark.parametrize(("actor", "code", "message"), [
    ({"subject": "op", "role": "operator", "operator": "op1"}, "forbidden",
     "role operator may not create plans for its households"),
    ({"subject": "pv", "role": "provider", "provider": "vhs"}, "forbidden",
     "role provider may not create plans for its households"),
    ({"subject": "au", "role": "auditor"}, "forbidden",
     "role auditor may not create plans for its households"),
    ({"subject": "sw-9", "role": "social_worker", "sites": ["s9"]}, "forbidden",
     "social worker sw-9 is not assigned to site s1 and may not create plans for its "
     "households"),
    ({"subject": "x", "role": "mayor"}, "bad_request",
     "invalid create_plan: Invalid enum value 'mayor' - at `$.actor.role`"),
])
async def test_unauthorised_actors(world, actor, code, message):
    reply = await answer(world, "create_plan", {"actor": actor, "household_id": "h1"})
    assert (reply["code"], reply["message"]) == (code, message)


async def test_a_good_command_is_stored_and_answered_again_from_its_record(world):
    body = msgspec.json.encode({"actor": ADMIN, "household_id": "h1", "command_id": "c1",
                                "goals": [GOAL]})
    first = await endpoint(world, "create_plan")(body)
    assert msgspec.json.decode(first)["state"] == "open"
    assert await endpoint(world, "create_plan")(body) == first
    assert len(world.collections["plans"]) == 1
