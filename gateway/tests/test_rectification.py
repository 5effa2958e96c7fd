"""Rectification (Art. 16 GDPR) end to end, with the real servers and every installed
service: a resident's name, birth year, languages and phone are corrected, a member moves
to another household, a household is split and two are merged; each change is announced
and every service's own record of the resident follows (read from each service's answer
to the access export); bad corrections are refused with the reason and change nothing."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from im_cli.testing import eventually
from im_runtime.plugins import installed
from support.world import World, family, ok, own_world

pytestmark = pytest.mark.flow
FOLLOWERS = ("education", "employment", "volunteers", "plans")


@pytest.fixture(scope="module")
async def world(kit: Any) -> AsyncIterator[World]:
    async for w in own_world(kit, installed()):
        yield w


async def records(w: World, resident: str) -> dict[str, dict[str, Any]]:
    """Service -> its own record of the resident (collection `residents`, keyed by them)."""
    r = await w.gw.get(f"/api/v1/residents/{resident}/export")
    if r.status_code != 200:
        return {}
    out = {}
    for name, section in r.json()["sections"].items():
        for doc in section["collections"].get("residents", []):
            if doc["_id"] == resident:
                out[name] = doc
    return out


async def command(w: World, name: str, body: dict[str, Any]) -> Any:
    return await w.gw.post(f"/api/v1/commands/housing/{name}", body)


async def test_a_corrected_record_appears_in_every_services_view(world: World) -> None:
    w = world
    f = await family(w)
    await eventually(lambda: _known(w, f.parent), timeout=20, interval=0.3)
    fixed = await ok(await command(w, "correct_resident", {
        "resident_id": f.parent, "given_name": "Amina", "birth_year": 1989,
        "languages": ["ar", "de"], "clear_phone": True}))
    assert fixed["given_name"] == "Amina" and fixed["phone"] is None
    assert fixed["birth_year"] == 1989 and fixed["languages"] == ["ar", "de"]

    async def followed() -> dict[str, Any] | None:
        got = await records(w, f.parent)
        ok_ = (got.get("education", {}).get("birth_year") == 1989
               and got.get("employment", {}).get("birth_year") == 1989
               and got.get("volunteers", {}).get("languages") == ["ar", "de"])
        return got if ok_ else None

    got = await eventually(followed, timeout=20, interval=0.3)
    assert got["housing"]["given_name"] == "Amina" and got["housing"]["phone"] is None
    # the name is found under the corrected name, not the old one
    found = (await w.gw.get("/api/v1/residents", params={"q": "Amina"})).json()
    assert f.parent in {i["resident_id"] for i in found["items"]}
    # the announcement names no name
    for name in FOLLOWERS:
        assert "Amina" not in str(got.get(name, {}))


async def _known(w: World, resident: str) -> bool:
    return {"housing", *FOLLOWERS} <= set(await records(w, resident))


async def test_members_move_split_and_merge_and_every_service_follows(world: World) -> None:
    w = world
    f = await family(w)
    other = await family(w, f"{uuid.uuid4().hex[:8]}")
    await eventually(lambda: _known(w, f.child), timeout=20, interval=0.3)
    # the child is split off into a household of their own
    split = await ok(await command(w, "split_household", {
        "household_id": f.household, "member_ids": [f.child]}))
    new = split["household_id"]
    assert split["resident_ids"] == [f.child] and split["site_id"] == f.site
    await eventually(lambda: _in_household(w, f.child, new), timeout=20, interval=0.3)
    # and merged back
    merged = await ok(await command(w, "merge_households", {
        "household_id": f.household, "from_household_id": new}))
    assert sorted(merged["resident_ids"]) == sorted([f.parent, f.child])
    await eventually(lambda: _in_household(w, f.child, f.household), timeout=20, interval=0.3)
    # a member of another household at another site cannot just move in
    refused = await command(w, "move_member", {"resident_id": other.parent,
                                               "household_id": f.household})
    assert refused.status_code == 409 and "different sites" in refused.json()["message"]
    # the parent moves to a household of their own at the same site
    alone = await ok(await command(w, "move_member", {"resident_id": f.parent}))
    assert alone["resident_ids"] == [f.parent] and alone["site_id"] == f.site
    await eventually(lambda: _in_household(w, f.parent, alone["household_id"]), timeout=20,
                     interval=0.3)


async def _in_household(w: World, resident: str, household: str) -> bool:
    got = await records(w, resident)
    return (got.get("housing", {}).get("household_id") == household
            and got.get("employment", {}).get("household_id") == household
            and got.get("plans", {}).get("household_id") == household)


@pytest.mark.parametrize(("name", "body", "status", "says"), [
    ("correct_resident", {}, 400, "nothing to correct"),
    ("correct_resident", {"birth_year": 1850}, 400, "birth_year"),
    ("correct_resident", {"languages": ["Arabic"]}, 400, "languages"),
    ("correct_resident", {"phone": "+49 1", "clear_phone": True}, 400, "not both"),
    ("split_household", {"member_ids": []}, 400, "member_ids"),
    ("split_household", {"member_ids": ["PARENT", "CHILD"]}, 400, "at least one member"),
    ("split_household", {"member_ids": ["r-nobody"]}, 400, "not members"),
    ("merge_households", {"from_household_id": "HOUSEHOLD"}, 400, "into itself"),
])
async def test_bad_rectifications_are_refused_with_the_reason_and_change_nothing(
        world: World, name: str, body: dict[str, Any], status: int, says: str) -> None:
    w = world
    f = await family(w)
    fill = {"PARENT": f.parent, "CHILD": f.child, "HOUSEHOLD": f.household}
    body = {k: ([fill.get(x, x) for x in v] if isinstance(v, list) else fill.get(v, v))
            for k, v in body.items()}
    key = "resident_id" if name == "correct_resident" else "household_id"
    before = (await w.gw.get(f"/api/v1/residents/{f.parent}")).json()["sections"]["housing"]
    r = await command(w, name, {key: f.parent if key == "resident_id" else f.household,
                                **body})
    assert r.status_code == status, r.text
    assert says in r.text
    after = (await w.gw.get(f"/api/v1/residents/{f.parent}")).json()["sections"]["housing"]
    assert after == before
