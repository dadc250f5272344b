"""The Kubernetes deployment, rendered with kustomize (built into kubectl) and validated offline against the
Kubernetes schemas (`kubernetes-validate`) and KEDA's ScaledObject shape — no cluster is reachable here."""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import jsonschema
import kubernetes_validate
import pytest
import yaml

from common.launcher.services import SERVICE_PORTS
from common.messaging.queue_manager import QueueManager
from common.models.tiers import PRIORITY_ORDER
from common.settings import CommonSettings
from deploy import render_kubernetes

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "kubernetes"
KUBERNETES_VERSION = "1.32.0"


def rendered(overlay: str = "overlays/example") -> list[dict]:
    if shutil.which("kubectl") is None:
        pytest.fail("rendering needs kubectl (its built-in kustomize): apt-get install kubectl")
    out = subprocess.run(
        ["kubectl", "kustomize", str(K8S / overlay)], capture_output=True, text=True, timeout=60, check=True
    )
    return [doc for doc in yaml.safe_load_all(out.stdout) if doc]


def by_kind(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in docs if doc["kind"] == kind}


def test_the_committed_base_is_what_the_generator_writes() -> None:
    for path, docs in render_kubernetes.manifests().items():
        assert path.read_text() == render_kubernetes.render(path, docs), f"{path} drifted: run deploy.render_kubernetes"


def test_every_manifest_is_valid_against_the_kubernetes_and_keda_schemas() -> None:
    docs = rendered()
    keda_schema = json.loads((K8S / "schemas" / "keda-scaledobject-v1alpha1.json").read_text())
    kinds = set()
    for doc in docs:
        kinds.add(doc["kind"])
        if doc["kind"] == "ScaledObject":
            jsonschema.validate(doc, keda_schema)
        else:
            kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    assert {
        "Deployment",
        "Service",
        "HorizontalPodAutoscaler",
        "ScaledObject",
        "PodDisruptionBudget",
        "ConfigMap",
        "Job",
    } <= kinds


def test_roles_probes_grace_and_resources() -> None:
    docs = rendered()
    deployments = by_kind(docs, "Deployment")
    drain = CommonSettings().shutdown_grace_s
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        container = pod["containers"][0]
        assert container["resources"]["requests"], name
        if name == "local-llm":
            continue
        assert pod["terminationGracePeriodSeconds"] > drain, name  # a stopping worker finishes its work
        assert container["readinessProbe"]["httpGet"]["path"] == "/ready"
        assert container["livenessProbe"]["httpGet"]["path"] == "/health"
        assert container["image"] == "registry.example.com/nooble4:0.1.0"  # the overlay pins the image
    for service in SERVICE_PORTS:
        roles = render_kubernetes.SERVICES[service][1]
        for role in roles:
            name = render_kubernetes.name_of(service, role)
            assert name in deployments and name in by_kind(docs, "PodDisruptionBudget")
            command = deployments[name]["spec"]["template"]["spec"]["containers"][0]["command"]
            assert command == ["python", "-m", service, "--only", role, "--port", str(SERVICE_PORTS[service])]
    assert by_kind(docs, "Job")["nooble4-migrate"]["spec"]["template"]["spec"]["containers"][0]["command"] == [
        "nooble4",
        "migrate",
    ]


def test_workers_scale_on_their_consumer_group_lag_and_apis_on_cpu() -> None:
    docs = rendered()
    deployments = by_kind(docs, "Deployment")
    scaled = by_kind(docs, "ScaledObject")
    queues = QueueManager(by_kind(docs, "ConfigMap")["nooble4-config"]["data"]["NOOBLE4_ENVIRONMENT"])
    for service, (domain, roles) in render_kubernetes.SERVICES.items():
        if "worker" in roles:
            name = render_kubernetes.name_of(service, "worker")
            spec = scaled[name]["spec"]
            assert spec["scaleTargetRef"]["name"] == name and name in deployments
            triggers = spec["triggers"]
            assert {t["metadata"]["stream"] for t in triggers} == {
                queues.action_stream(domain, tier) for tier in PRIORITY_ORDER
            }
            assert all(t["metadata"]["consumerGroup"] == queues.consumer_group(domain) for t in triggers)
            env = deployments[name]["spec"]["template"]["spec"]["containers"][0]["envFrom"]
            assert {"configMapRef": {"name": "nooble4-config"}} in env  # where KEDA reads NOOBLE4_REDIS_ADDRESS
        if "api" in roles:
            hpa = by_kind(docs, "HorizontalPodAutoscaler")[render_kubernetes.name_of(service, "api")]
            assert hpa["spec"]["scaleTargetRef"]["name"] in deployments
    assert "NOOBLE4_REDIS_ADDRESS" in by_kind(docs, "ConfigMap")["nooble4-config"]["data"]


def test_the_keda_schema_refuses_what_the_cluster_would_ignore() -> None:
    keda_schema = json.loads((K8S / "schemas" / "keda-scaledobject-v1alpha1.json").read_text())
    good = next(doc for doc in rendered() if doc["kind"] == "ScaledObject")
    typo = json.loads(json.dumps(good))
    typo["spec"]["triggers"][0]["metadata"]["lagCont"] = "5"
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(typo, keda_schema)
