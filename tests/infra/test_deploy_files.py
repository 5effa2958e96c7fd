"""The compose file, the Kubernetes manifests and the observability files: current with the
installed services (infra/generate.py), valid against their specifications, and sound.
No Docker engine or cluster here: these check the files, they do not run them."""

from __future__ import annotations

import json
import re
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


@pytest.fixture(scope="module")
def manifests() -> list[dict[str, Any]]:
    docs = [d for f in sorted((ROOT / "infra/k8s").glob("*.yaml")) if f.name != "nats-values.yaml"
            for d in yaml.safe_load_all(f.read_text()) if d]
    return docs


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


def test_kubernetes_core_manifests_match_the_schemas(manifests: list[dict[str, Any]]) -> None:
    import kubernetes_validate

    core = [d for d in manifests if not d["apiVersion"].endswith(("keda.sh/v1alpha1",
                                                                   "mongodb.com/v1"))]
    kinds = {d["kind"] for d in core}
    assert {"Deployment", "Service", "ConfigMap", "PodDisruptionBudget"} <= kinds
    for doc in core:
        kubernetes_validate.validate(doc, K8S_VERSION, strict=True)


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
                   "im_events_dead_lettered_total", "im_handler_seconds_bucket",
                   "im_gateway_request_seconds_bucket", "im_gateway_missing_sections_total"):
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
