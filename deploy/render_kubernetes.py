"""Writes the Kubernetes base (`deploy/kubernetes/base/`) from the list of services: one Deployment per role
(API, worker), Services and HPAs for the APIs, KEDA ScaledObjects on stream lag for the workers,
PodDisruptionBudgets, the config, the migration Job; the local LLM is an optional kustomize component.

    python -m deploy.render_kubernetes        # rewrite the files (a test fails when they drift)

Why generated + kustomize rather than Helm: the manifests stay plain YAML that operators read, diff and
patch with kustomize overlays (built into kubectl), and CI renders and validates them offline with no
chart tooling; the repetition across seven services lives in this one script instead of in copies.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from common.launcher.services import SERVICE_PORTS
from common.local_llm import LOCAL_LLM_PORT
from common.messaging.queue_manager import QueueManager
from common.models.tiers import PRIORITY_ORDER
from common.settings import CommonSettings

BASE = Path(__file__).resolve().parent / "kubernetes" / "base"
LLM = Path(__file__).resolve().parent / "kubernetes" / "components" / "local-llm"
MONITORING = Path(__file__).resolve().parent / "monitoring"
MONITORING_LABELS = {"app.kubernetes.io/name": "nooble4-monitoring", "app.kubernetes.io/part-of": "nooble4"}
IMAGE = "nooble4:latest"
ENVIRONMENT = "production"  # the key prefix KEDA's triggers name; overlays that change it re-render
DRAIN_S = int(CommonSettings().shutdown_grace_s)
GRACE_S = DRAIN_S + 10  # terminationGracePeriodSeconds above the drain

# service -> (domain, roles); the orchestrator's work is its sockets, execution's its stream
SERVICES: dict[str, tuple[str, list[str]]] = {
    "agent_orchestrator_service": ("orchestrator", ["api"]),
    "agent_execution_service": ("execution", ["worker"]),
    "agent_management_service": ("management", ["api", "worker"]),
    "conversation_service": ("conversation", ["api", "worker"]),
    "embedding_service": ("embedding", ["api", "worker"]),
    "ingestion_service": ("ingestion", ["api", "worker"]),
    "query_service": ("query", ["api", "worker"]),
}
RESOURCES = {
    "api": {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"memory": "1Gi"}},
    "worker": {"requests": {"cpu": "250m", "memory": "512Mi"}, "limits": {"memory": "2Gi"}},
}
WORKER_RESOURCES = {  # extraction runs in capped child processes; the embedding model lives in the worker
    "ingestion_service": {"requests": {"cpu": "500m", "memory": "1Gi"}, "limits": {"memory": "4Gi"}},
    "embedding_service": {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
}


def name_of(service: str, role: str) -> str:
    return f"{service.removesuffix('_service').replace('_', '-')}-{role}"


def labels(service: str, role: str) -> dict[str, str]:
    return {"app.kubernetes.io/name": name_of(service, role), "app.kubernetes.io/part-of": "nooble4"}


def probe(path: str, port: int, period: int) -> dict[str, Any]:
    return {"httpGet": {"path": path, "port": port}, "periodSeconds": period, "timeoutSeconds": 3}


def deployment(service: str, role: str) -> dict[str, Any]:
    port = SERVICE_PORTS[service]
    resources = WORKER_RESOURCES.get(service, RESOURCES[role]) if role == "worker" else RESOURCES[role]
    container = {
        "name": role,
        "image": IMAGE,
        "command": ["python", "-m", service, "--only", role, "--port", str(port)],
        "ports": [{"name": "http", "containerPort": port}],
        "envFrom": [{"configMapRef": {"name": "nooble4-config"}}, {"secretRef": {"name": "nooble4-secrets"}}],
        "env": [{"name": "NOOBLE4_INSTANCE_ID", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
        "readinessProbe": probe("/ready", port, 5),
        "livenessProbe": {**probe("/health", port, 10), "failureThreshold": 6},
        "resources": resources,
        "securityContext": {"allowPrivilegeEscalation": False, "readOnlyRootFilesystem": False},
    }
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name_of(service, role), "labels": labels(service, role)},
        "spec": {
            "replicas": 1 if role == "worker" else 2,
            "selector": {"matchLabels": labels(service, role)},
            "template": {
                "metadata": {"labels": labels(service, role)},
                "spec": {
                    "terminationGracePeriodSeconds": GRACE_S,
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                    "containers": [container],
                },
            },
        },
    }


def api_service(service: str) -> dict[str, Any]:
    port = SERVICE_PORTS[service]
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name_of(service, "api"), "labels": labels(service, "api")},
        "spec": {"selector": labels(service, "api"), "ports": [{"name": "http", "port": port, "targetPort": "http"}]},
    }


def hpa(service: str) -> dict[str, Any]:
    target = {"apiVersion": "apps/v1", "kind": "Deployment", "name": name_of(service, "api")}
    cpu = {"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": name_of(service, "api"), "labels": labels(service, "api")},
        "spec": {"scaleTargetRef": target, "minReplicas": 2, "maxReplicas": 10, "metrics": [cpu]},
    }


def scaled_object(service: str, domain: str) -> dict[str, Any]:
    """KEDA's Redis Streams scaler on the domain's consumer group, one trigger per tier stream: the worker
    Deployment grows with the entries not yet delivered (lag) and shrinks to its minimum when drained."""
    queues = QueueManager(ENVIRONMENT)
    triggers = [
        {
            "type": "redis-streams",
            "metadata": {
                "addressFromEnv": "NOOBLE4_REDIS_ADDRESS",
                "stream": queues.action_stream(domain, tier),
                "consumerGroup": queues.consumer_group(domain),
                "lagCount": "32",
                "activationLagCount": "1",
            },
        }
        for tier in PRIORITY_ORDER
    ]
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": name_of(service, "worker"), "labels": labels(service, "worker")},
        "spec": {
            "scaleTargetRef": {"name": name_of(service, "worker")},
            "minReplicaCount": 1,
            "maxReplicaCount": 20,
            "pollingInterval": 5,
            "cooldownPeriod": 120,
            "triggers": triggers,
        },
    }


def pdb(service: str, role: str) -> dict[str, Any]:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": name_of(service, role), "labels": labels(service, role)},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": labels(service, role)}},
    }


def config() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {"name": "nooble4-config", "labels": {"app.kubernetes.io/part-of": "nooble4"}},
        "data": {
            "NOOBLE4_ENVIRONMENT": ENVIRONMENT,
            "NOOBLE4_HOST": "0.0.0.0",
            "NOOBLE4_REDIS_URL": "redis://redis:6379/0",  # external Redis: override in an overlay
            "NOOBLE4_REDIS_ADDRESS": "redis:6379",  # the same, as host:port, for KEDA's scaler
            "NOOBLE4_LOCAL_LLM_BASE_URL": f"http://local-llm:{LOCAL_LLM_PORT}/v1",
            "NOOBLE4_SHUTDOWN_GRACE_S": str(DRAIN_S),
            "NOOBLE4_LOG_JSON": "true",
        },
    }


def migration_job() -> dict[str, Any]:
    container = {
        "name": "migrate",
        "image": IMAGE,
        "command": ["nooble4", "migrate"],
        "envFrom": [{"configMapRef": {"name": "nooble4-config"}}, {"secretRef": {"name": "nooble4-secrets"}}],
    }
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "nooble4-migrate", "labels": {"app.kubernetes.io/part-of": "nooble4"}},
        "spec": {
            "backoffLimit": 6,
            "template": {
                "spec": {
                    "restartPolicy": "OnFailure",
                    "securityContext": {"runAsNonRoot": True, "runAsUser": 10001},
                    "containers": [container],
                }
            },
        },
    }


def local_llm() -> list[dict[str, Any]]:
    service_labels = {"app.kubernetes.io/name": "local-llm", "app.kubernetes.io/part-of": "nooble4"}
    container = {
        "name": "llm",
        "image": IMAGE,
        "command": ["nooble4", "local-llm", "--host", "0.0.0.0", "--port", str(LOCAL_LLM_PORT)],
        "ports": [{"name": "http", "containerPort": LOCAL_LLM_PORT}],
        "readinessProbe": probe("/v1/models", LOCAL_LLM_PORT, 10),
        "resources": {"requests": {"cpu": "2", "memory": "1Gi"}, "limits": {"memory": "2Gi"}},
    }
    return [
        {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "metadata": {"name": "local-llm", "labels": service_labels},
            "spec": {
                "replicas": 1,
                "selector": {"matchLabels": service_labels},
                "template": {
                    "metadata": {"labels": service_labels},
                    "spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 10001}, "containers": [container]},
                },
            },
        },
        {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": "local-llm", "labels": service_labels},
            "spec": {"selector": service_labels, "ports": [{"name": "http", "port": LOCAL_LLM_PORT}]},
        },
    ]


def monitoring() -> list[dict[str, Any]]:
    """The Grafana dashboard (a ConfigMap the Grafana sidecar loads: label `grafana_dashboard`) and the
    Prometheus alert rules (to mount as a rule file), from `deploy/monitoring/`."""
    return [
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": "nooble4-grafana-dashboard",
                "labels": {**MONITORING_LABELS, "grafana_dashboard": "1"},
            },
            "data": {"nooble4.json": (MONITORING / "grafana" / "dashboards" / "nooble4.json").read_text()},
        },
        {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {"name": "nooble4-prometheus-rules", "labels": MONITORING_LABELS},
            "data": {"nooble4-alerts.yml": (MONITORING / "alerts.yml").read_text()},
        },
    ]


def manifests() -> dict[Path, list[dict[str, Any]]]:
    files: dict[Path, list[dict[str, Any]]] = {
        BASE / "config.yaml": [config()],
        BASE / "migrate.yaml": [migration_job()],
        BASE / "monitoring.yaml": monitoring(),
    }
    for service, (domain, roles) in SERVICES.items():
        docs: list[dict[str, Any]] = []
        for role in roles:
            docs += [deployment(service, role), pdb(service, role)]
            docs += [api_service(service), hpa(service)] if role == "api" else [scaled_object(service, domain)]
        files[BASE / f"{service.removesuffix('_service').replace('_', '-')}.yaml"] = docs
    files[BASE / "kustomization.yaml"] = [
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": sorted(p.name for p in files if p.parent == BASE),
        }
    ]
    files[LLM / "local-llm.yaml"] = local_llm()
    files[LLM / "kustomization.yaml"] = [
        {"apiVersion": "kustomize.config.k8s.io/v1alpha1", "kind": "Component", "resources": ["local-llm.yaml"]}
    ]
    return files


def render(path: Path, docs: list[dict[str, Any]]) -> str:
    header = "# Generated by `python -m deploy.render_kubernetes`; edit that script, or patch in an overlay.\n"
    return header + "---\n".join(yaml.safe_dump(doc, sort_keys=False) for doc in docs)


def main() -> None:
    for path, docs in manifests().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(render(path, docs))
        print(path)


if __name__ == "__main__":
    main()
