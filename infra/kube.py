"""The Kubernetes pieces around the workloads, written by infra/generate.py: the network
policies, the Ingress with TLS, and the kustomize base and overlays that tie
infra/k8s/*.yaml together (`kubectl kustomize infra/k8s/overlays/production`)."""

from __future__ import annotations

from typing import Any

NAMESPACE = "im"
# Where the parts the platform talks to run (the nats chart's and the usual add-ons').
NATS_NAMESPACE = "nats"
INGRESS_NAMESPACE = "ingress-nginx"
MONITORING_NAMESPACE = "monitoring"
MONGO_POD_LABEL = {"app": "im-mongo-svc"}  # the MongoDB Community Operator's pod label
PART_OF = {"app.kubernetes.io/part-of": "im"}
TLS_SECRET = "im-gateway-tls"
BASE_HOST = "im.example.org"
# Each overlay: its public host name and the image tag it runs (changed by a release).
OVERLAYS = {"staging": "im.staging.example.org", "production": "im.example.org"}


def _ns(name: str) -> dict[str, Any]:
    return {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": name}}}


def _policy(name: str, selector: dict[str, Any], types: list[str],
            **rules: Any) -> dict[str, Any]:
    return {"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
            "metadata": {"name": name, "labels": dict(PART_OF)},
            "spec": {"podSelector": selector, "policyTypes": types, **rules}}


def network_policies(gateway_port: int, health_port: int) -> list[dict[str, Any]]:
    """Default deny for the platform's pods, then only what they need: every pod to NATS,
    its MongoDB and DNS; the ingress controller to the gateway; Prometheus to /metrics.
    Services take no other traffic (they talk over the bus, not to each other)."""
    ours = {"matchLabels": dict(PART_OF)}
    dns = [{"protocol": p, "port": 53} for p in ("UDP", "TCP")]
    return [
        _policy("im-default-deny", ours, ["Ingress", "Egress"]),
        _policy("im-egress", ours, ["Egress"], egress=[
            {"to": [_ns(NATS_NAMESPACE)], "ports": [{"protocol": "TCP", "port": 4222}]},
            {"to": [{"podSelector": {"matchLabels": MONGO_POD_LABEL}}],
             "ports": [{"protocol": "TCP", "port": 27017}]},
            {"to": [_ns("kube-system")], "ports": dns},
            # Traces to an OpenTelemetry collector, when OTEL_EXPORTER_OTLP_ENDPOINT is set.
            {"to": [_ns(MONITORING_NAMESPACE)],
             "ports": [{"protocol": "TCP", "port": p} for p in (4317, 4318)]},
        ]),
        _policy("im-gateway-ingress",
                {"matchLabels": {"app.kubernetes.io/name": "gateway"}}, ["Ingress"],
                ingress=[{"from": [_ns(INGRESS_NAMESPACE)],
                          "ports": [{"protocol": "TCP", "port": gateway_port}]}]),
        _policy("im-metrics", ours, ["Ingress"], ingress=[
            {"from": [_ns(MONITORING_NAMESPACE)],
             "ports": [{"protocol": "TCP", "port": p} for p in (health_port, gateway_port)]}]),
    ]


def ingress(gateway_port: int) -> dict[str, Any]:
    """HTTPS only: the certificate in `im-gateway-tls` (cert-manager writes it where the
    overlay names an issuer); plain HTTP is redirected by the controller."""
    return {
        "apiVersion": "networking.k8s.io/v1", "kind": "Ingress",
        "metadata": {"name": "gateway", "labels": {"app.kubernetes.io/name": "gateway",
                                                   **PART_OF},
                     "annotations": {"nginx.ingress.kubernetes.io/ssl-redirect": "true",
                                     "nginx.ingress.kubernetes.io/proxy-body-size": "2m"}},
        "spec": {
            "ingressClassName": "nginx",
            "tls": [{"hosts": [BASE_HOST], "secretName": TLS_SECRET}],
            "rules": [{"host": BASE_HOST, "http": {"paths": [{
                "path": "/", "pathType": "Prefix",
                "backend": {"service": {"name": "gateway",
                                        "port": {"number": gateway_port}}}}]}}],
        },
    }


def base_kustomization() -> dict[str, Any]:
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "namespace": NAMESPACE,
            "resources": ["platform.yaml", "network.yaml", "ingress.yaml", "mongodb.yaml"]}


def overlay_kustomization(host: str, image: str, tag: str) -> dict[str, Any]:
    """An environment: its host name on the Ingress (rule and certificate) and the image
    tag it runs; cert-manager issues the certificate."""
    patch = [{"op": "replace", "path": "/spec/rules/0/host", "value": host},
             {"op": "replace", "path": "/spec/tls/0/hosts/0", "value": host},
             {"op": "add", "path": "/metadata/annotations/cert-manager.io~1cluster-issuer",
              "value": "letsencrypt"}]
    return {"apiVersion": "kustomize.config.k8s.io/v1beta1", "kind": "Kustomization",
            "resources": ["../../base"],
            "images": [{"name": image, "newTag": tag}],
            "patches": [{"target": {"kind": "Ingress", "name": "gateway"},
                         "patch": _json_patch(patch)}]}


def _json_patch(ops: list[dict[str, Any]]) -> str:
    import json

    return json.dumps(ops, indent=2) + "\n"
