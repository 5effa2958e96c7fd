"""Sign-in against the real servers, with housing in-process: accounts and one-time
passwords, session tokens, refresh and logout, the social worker's sites from housing's
staff deployment, lock-out, disabling, and the attacks: each role's session reaching for
what is not its own, another user's session, forged and expired tokens."""

from __future__ import annotations

import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import jwt
import pytest

from gateway import accounts as accounts_module
from gateway import sessions as sessions_module
from gateway.auth import Tokens
from housing.plugin import spec as housing_spec
from im_cli.testing import Servers, eventually

pytestmark = pytest.mark.integration

CHECK = 0.3  # seconds a gateway instance trusts what it looked up about a session


@dataclass
class World:
    gw: Any  # conftest's Gateway: client, tokens (machine tokens of any role)
    site: str
    other_site: str
    operator: str
    second: Any  # a second gateway instance on the same database and key

    @property
    def client(self) -> httpx.AsyncClient:
        return self.gw.client  # type: ignore[no-any-return]

    async def admin(self, method: str, path: str, body: Any = None) -> httpx.Response:
        return await self.client.request(method, path, json=body,
                                         headers=self.gw.auth("city_admin", "admin-machine"))

    async def user(self, role: str, **extra: Any) -> tuple[str, str]:
        """A new user who has set her own password: (username, password)."""
        username = extra.pop("username", None) or f"{role[:2]}-{uuid.uuid4().hex[:8]}"
        r = await self.admin("POST", "/api/v1/users", {"username": username, "role": role,
                                                       "name": f"Test {role}", **extra})
        assert r.status_code == 201, r.text
        one_time = r.json()["password"]
        password = f"pw-{uuid.uuid4().hex}"
        r = await self.client.post("/api/auth/password", json={
            "username": username, "password": one_time, "new_password": password})
        assert r.status_code == 200, r.text
        return username, password

    async def session(self, username: str, password: str) -> Session:
        r = await self.client.post("/api/auth/login", json={"username": username,
                                                            "password": password})
        assert r.status_code == 200, r.text
        self.client.cookies.clear()  # each session keeps its own cookie
        return Session(self, r.json()["access_token"], r.cookies.get("im_refresh") or "",
                       r.json()["user"])


@dataclass
class Session:
    world: World
    token: str
    cookie: str
    me: dict[str, Any]

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    async def get(self, path: str, **kw: Any) -> httpx.Response:
        return await self.world.client.get(path, headers=self.headers, **kw)

    async def post(self, path: str, body: Any = None) -> httpx.Response:
        return await self.world.client.post(path, json=body, headers=self.headers)

    async def refresh(self, cookie: str | None = None) -> httpx.Response:
        r = await self.world.client.post("/api/auth/refresh",
                                         headers=with_cookie(cookie or self.cookie))
        self.world.client.cookies.clear()
        if r.status_code == 200:
            self.token, self.cookie = r.json()["access_token"], r.cookies["im_refresh"]
        return r


def with_cookie(value: str) -> dict[str, str]:
    return {"Cookie": f"im_refresh={value}"}


@pytest.fixture(scope="module")
async def world(servers: Servers, kit) -> AsyncIterator[World]:
    settings = kit.settings_for(servers)
    key = secrets.token_bytes(32)
    async with kit.running(housing_spec, settings=settings), \
            kit.gateway_for(settings, key=key, check_seconds=CHECK, lockout_attempts=3,
                            token_minutes=1) as gw, \
            kit.gateway_for(settings, key=key, check_seconds=CHECK) as second:
        w = World(gw, kit.rid("s"), kit.rid("s"), kit.rid("op"), second)
        for site, op in ((w.site, w.operator), (w.other_site, kit.rid("op"))):
            r = await w.admin("POST", "/api/v1/commands/housing/register_site", {
                "site_id": site, "kind": "shelter", "name": f"Shelter {site}",
                "operator_id": op, "address": "Podbielskistraße 1", "district": "List",
                "capacity": 50})
            assert r.status_code == 200, r.text
        yield w


async def deploy(world: World, staff_id: str, *sites: str) -> None:
    r = await world.admin("POST", "/api/v1/commands/housing/assign_staff",
                          {"staff_id": staff_id, "name": "Frau Meyer", "site_ids": list(sites)})
    assert r.status_code == 200, r.text


# ------------------------------------------------------------------ accounts and sessions

async def test_a_one_time_password_must_be_changed_before_signing_in(world: World):
    username = f"ca-{uuid.uuid4().hex[:8]}"
    r = await world.admin("POST", "/api/v1/users", {"username": username, "role": "city_admin",
                                                    "name": "Anna Admin"})
    assert r.status_code == 201 and r.json()["user"]["must_change"] is True
    assert "password_hash" not in r.text
    one_time = r.json()["password"]
    r = await world.client.post("/api/auth/login", json={"username": username,
                                                         "password": one_time})
    assert r.status_code == 403 and r.json()["details"]["must_change"] == "true"
    for new, why in (("short", "at least 12"), (one_time, "differ")):
        r = await world.client.post("/api/auth/password", json={
            "username": username, "password": one_time, "new_password": new})
        assert r.status_code == 400 and why in r.json()["message"], r.text
        assert r.json()["details"]["field"] == "new_password"
    r = await world.client.post("/api/auth/password", json={
        "username": username, "password": "wrong-password!", "new_password": "x" * 12})
    assert r.status_code == 401
    s = await world.session(*await world.user("city_admin"))
    assert s.me["role"] == "city_admin"
    r = await world.admin("POST", "/api/v1/users", {"username": username, "role": "auditor",
                                                    "name": "Again"})
    assert r.status_code == 409 and r.json()["details"]["field"] == "username"
    users = (await world.admin("GET", "/api/v1/users")).json()
    assert {u["username"] for u in users} >= {username, s.me["username"]}


async def test_bad_accounts_are_refused_with_the_field(world: World):
    for body, field in (({"username": "a b", "role": "auditor", "name": "n"}, "username"),
                        ({"username": "x1", "role": "boss", "name": "n"}, "role"),
                        ({"username": "x2", "role": "operator", "name": "n"}, "operator"),
                        ({"username": "x3", "role": "auditor", "name": "n",
                          "provider": "vhs"}, "provider"),
                        ({"username": "x4", "role": "auditor", "name": ""}, "name")):
        r = await world.admin("POST", "/api/v1/users", body)
        assert r.status_code == 400, (body, r.text)
        assert field in r.text, (field, r.text)


async def test_session_token_refresh_and_logout(world: World):
    s = await world.session(*await world.user("auditor"))
    claims = jwt.decode(s.token, options={"verify_signature": False})
    assert claims["exp"] - claims["iat"] == 60 and "sid" in claims and "sites" not in claims
    assert (await s.get("/api/auth/me")).json()["role"] == "auditor"
    first_cookie, first_token = s.cookie, s.token
    assert (await s.refresh()).status_code == 200
    assert s.cookie != first_cookie
    # the replaced secret, within the grace: refused, but the session goes on (two tabs)
    r = await s.refresh(first_cookie)
    assert r.status_code == 401 and r.json()["details"].get("retry") == "true"
    assert (await s.get("/api/auth/me")).status_code == 200
    sessions = (await s.get("/api/auth/sessions")).json()
    assert [x["current"] for x in sessions] == [True]
    r = await s.post("/api/auth/logout")
    assert r.status_code == 200 and 'im_refresh=""' in r.headers["set-cookie"]
    for token in (s.token, first_token):
        r = await world.client.get("/api/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and "signed out" in r.json()["message"]
    assert (await s.refresh()).status_code == 401


async def test_a_copied_refresh_secret_used_after_the_grace_ends_the_session(
        world: World, monkeypatch):
    monkeypatch.setattr(sessions_module, "GRACE", timedelta(0))
    s = await world.session(*await world.user("auditor"))
    stolen = s.cookie
    assert (await s.refresh()).status_code == 200
    r = await s.refresh(stolen)  # the thief, after the user refreshed
    assert r.status_code == 401 and "reused" in r.json()["message"]
    await eventually(lambda: _status(s, "/api/auth/me", 401), timeout=5, interval=0.1)
    assert (await s.refresh()).status_code == 401  # the user's own secret ends with it


async def _status(s: Session, path: str, status: int) -> bool:
    return (await s.get(path)).status_code == status


# ------------------------------------------------------------------ sites from housing

async def test_a_social_workers_sites_come_from_housing_not_the_token(world: World):
    username, password = await world.user("social_worker")
    await deploy(world, username, world.site)
    s = await world.session(username, password)
    assert s.me["sites"] == [world.site]
    assert "sites" not in jwt.decode(s.token, options={"verify_signature": False})
    assert (await s.get("/api/v1/residents", params={"site": world.site})).status_code == 200
    r = await s.get("/api/v1/residents", params={"site": world.other_site})
    assert r.status_code == 403
    assert (await s.get(f"/api/v1/sites/{world.other_site}")).status_code == 403
    await deploy(world, username, world.other_site)  # redeployed: within the check interval
    await eventually(lambda: _status(s, f"/api/v1/sites/{world.other_site}", 200),
                     timeout=5, interval=0.1)
    assert (await s.get(f"/api/v1/sites/{world.site}")).status_code == 403
    assert (await s.get("/api/auth/me")).json()["sites"] == [world.other_site]


async def test_a_social_worker_never_deployed_sees_no_site(world: World):
    s = await world.session(*await world.user("social_worker"))
    assert s.me["sites"] == []
    assert (await s.get(f"/api/v1/sites/{world.site}")).status_code == 403


# ------------------------------------------------------------------ attacks

async def test_each_roles_session_is_refused_what_is_not_its_own(world: World):
    sw = await world.session(*await world.user("social_worker"))
    op = await world.session(*await world.user("operator", operator=world.operator))
    prov = await world.session(*await world.user("provider", provider="vhs"))
    aud = await world.session(*await world.user("auditor"))
    for s in (sw, op, prov, aud):
        assert (await s.get("/api/v1/users")).status_code == 403, s.me["role"]
        r = await s.post("/api/v1/users", {"username": "evil", "role": "city_admin",
                                           "name": "Evil"})
        assert r.status_code == 403, s.me["role"]
        assert (await s.post(f"/api/v1/users/{s.me['username']}/reset")).status_code == 403
        r = await s.post("/api/v1/commands/housing/assign_staff",
                         {"staff_id": s.me["username"], "name": "me",
                          "site_ids": [world.site]})
        assert r.status_code == 403, s.me["role"]
    assert (await sw.get(f"/api/v1/sites/{world.site}")).status_code == 403
    assert (await op.get(f"/api/v1/sites/{world.other_site}")).status_code == 403
    assert (await op.get(f"/api/v1/sites/{world.site}")).status_code == 200
    assert (await prov.get("/api/v1/residents")).status_code == 403
    # a claim added to the body does not change who asks
    r = await sw.post("/api/v1/commands/housing/get_staff",
                      {"staff_id": "someone-else", "actor": {"subject": "someone-else",
                                                             "role": "city_admin"}})
    assert r.status_code == 403, r.text


async def test_another_users_session_cannot_be_used_or_ended(world: World):
    alice = await world.session(*await world.user("auditor"))
    bob = await world.session(*await world.user("auditor"))
    bob_sid = jwt.decode(bob.token, options={"verify_signature": False})["sid"]
    r = await alice.post(f"/api/auth/sessions/{bob_sid}/end")
    assert r.status_code == 404
    assert (await bob.get("/api/auth/me")).status_code == 200
    # a token naming bob's session for alice (it would take the gateway's key to make)
    forged = world.gw.tokens.mint(role="auditor", subject=alice.me["username"], sid=bob_sid)
    r = await world.client.get("/api/auth/me", headers={"Authorization": f"Bearer {forged}"})
    assert r.status_code == 401
    # bob's refresh secret guessed from his session id alone
    assert (await alice.refresh(f"{bob_sid}.guess")).status_code == 401
    r = await world.client.post("/api/auth/logout", headers=with_cookie(f"{bob_sid}.x"))
    assert r.status_code == 200
    assert (await bob.get("/api/auth/me")).status_code == 200  # still signed in


async def test_forged_and_expired_tokens_are_refused(world: World):
    s = await world.session(*await world.user("auditor"))
    claims = jwt.decode(s.token, options={"verify_signature": False})
    wrong_key = jwt.encode({**claims, "role": "city_admin"}, "k" * 32, algorithm="HS256")
    unsigned = jwt.encode({**claims, "role": "city_admin"}, None, algorithm="none")
    expired = world.gw.tokens.mint(role="auditor", subject=claims["sub"], sid=claims["sid"],
                                   ttl=timedelta(seconds=-1))
    no_session = world.gw.tokens.mint(role="city_admin", subject=claims["sub"],
                                      sid=uuid.uuid4().hex)
    for token, why in ((wrong_key, "invalid"), (unsigned, "invalid"), (expired, "expired"),
                       (no_session, "ended"), ("garbage", "invalid")):
        r = await world.client.get("/api/v1/users",
                                   headers={"Authorization": f"Bearer {token}"})
        assert r.status_code == 401 and why in r.json()["message"], (why, r.text)
    # a machine token whose signature is right still works: `im token` stays for machines
    assert (await world.admin("GET", "/api/v1/users")).status_code == 200
    assert isinstance(world.gw.tokens, Tokens)


async def test_a_disabled_user_is_out_within_the_check_interval(world: World):
    username, password = await world.user("city_admin")
    s = await world.session(username, password)
    assert (await s.get("/api/v1/users")).status_code == 200
    r = await s.post(f"/api/v1/users/{username}/disable")
    assert r.status_code == 409  # not oneself
    r = await world.admin("POST", f"/api/v1/users/{username}/disable")
    assert r.status_code == 200 and r.json()["disabled"] is True
    await eventually(lambda: _status(s, "/api/v1/users", 401), timeout=2 * CHECK + 1,
                     interval=0.05)
    assert (await s.refresh()).status_code == 401
    r = await world.client.post("/api/auth/login", json={"username": username,
                                                         "password": password})
    assert r.status_code == 401 and "disabled" in r.json()["message"]
    assert (await world.admin("POST", f"/api/v1/users/{username}/enable")).status_code == 200
    await world.session(username, password)


async def test_repeated_failures_lock_a_name_out_known_or_not(world: World):
    username, password = await world.user("auditor")
    messages = {}
    for name in (username, f"nobody-{uuid.uuid4().hex[:6]}"):
        for _attempt in range(3):
            r = await world.client.post("/api/auth/login", json={"username": name,
                                                                 "password": "guess-" * 3})
            assert r.status_code == 401
        messages[name] = r.json()["message"]
        assert "locked" in messages[name]
        r = await world.client.post("/api/auth/login", json={"username": name,
                                                             "password": password})
        assert r.status_code == 401 and "locked" in r.json()["message"]
    a, b = (m.split(" until")[0] for m in messages.values())
    assert a == b  # the lock-out does not tell real names from made-up ones
    listed = {u["username"]: u for u in (await world.admin("GET", "/api/v1/users")).json()}
    assert listed[username]["locked_until"]
    r = await world.admin("POST", f"/api/v1/users/{username}/reset")
    assert r.status_code == 200 and r.json()["user"]["locked_until"] is None
    r = await world.client.post("/api/auth/login", json={"username": username,
                                                         "password": r.json()["password"]})
    assert r.status_code == 403  # unlocked, and the new one-time password must be changed


async def test_root_opens_the_dashboard_and_the_index_is_under_api(world: World):
    r = await world.client.get("/")
    assert r.status_code == 302 and r.headers["location"] == "/dashboard/"
    links = (await world.client.get("/api")).json()["links"]
    assert links["dashboard"] == "/dashboard/" and links["login"] == "/api/auth/login"


async def test_changing_ones_password_ends_the_other_sessions_not_this_one(world: World):
    username, password = await world.user("auditor")
    here, there = await world.session(username, password), await world.session(username, password)
    r = await world.client.post("/api/auth/password", headers=here.headers, json={
        "username": username, "password": password, "new_password": "a new long password"})
    assert r.status_code == 200, r.text
    assert (await here.get("/api/auth/me")).status_code == 200
    await eventually(lambda: _status(there, "/api/auth/me", 401), timeout=2 * CHECK + 1,
                     interval=0.05)
    assert "password was changed" in (await there.get("/api/auth/me")).json()["message"]
    # another user's session token does not keep a session of this user alive
    other = await world.session(*await world.user("auditor"))
    r = await world.client.post("/api/auth/password", headers=other.headers, json={
        "username": username, "password": "a new long password",
        "new_password": "yet another long password"})
    assert r.status_code == 200
    await eventually(lambda: _status(here, "/api/auth/me", 401), timeout=2 * CHECK + 1,
                     interval=0.05)


async def test_a_user_disabled_on_one_instance_is_out_on_another(world: World):
    username, password = await world.user("auditor")
    s = await world.session(username, password)  # signed in through the first instance
    on_second = {"Authorization": f"Bearer {s.token}"}
    r = await world.second.client.get("/api/auth/me", headers=on_second)
    assert r.status_code == 200 and r.json()["username"] == username
    assert (await world.admin("POST", f"/api/v1/users/{username}/disable")).status_code == 200

    async def out() -> bool:
        return (await world.second.client.get("/api/auth/me", headers=on_second)).status_code \
            == 401

    await eventually(out, timeout=2 * CHECK + 1, interval=0.05)


async def test_old_sessions_and_failure_counts_are_tidied_away(world: World, monkeypatch):
    username, password = await world.user("auditor")
    s = await world.session(username, password)
    assert (await s.post("/api/auth/logout")).status_code == 200
    await world.client.post("/api/auth/login", json={"username": username, "password": "no!"})
    sid = jwt.decode(s.token, options={"verify_signature": False})["sid"]
    client, db = accounts_module.connect(world.gw.settings.mongo_url,
                                         world.gw.settings.db_prefix)
    try:
        users = accounts_module.Accounts(db, attempts=5, lockout=timedelta(minutes=15))
        sessions = sessions_module.Sessions(db, sessions_module.Lifetimes(
            total=timedelta(hours=10), idle=timedelta(hours=1)))
        await sessions.tidy()
        assert await sessions.get(sid) is not None  # ended just now: kept
        later = time.time() + sessions_module.KEEP_ENDED.total_seconds() + 86400 + 1
        monkeypatch.setattr(sessions_module, "_now", lambda: later)
        monkeypatch.setattr(accounts_module, "_now", lambda: later)
        assert await sessions.tidy() >= 1
        assert await sessions.get(sid) is None
        assert await users.tidy() >= 1
        assert await users.logins.find_one({"_id": username}) is None
    finally:
        await client.close()
