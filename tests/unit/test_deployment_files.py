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
