"""docker/: the service image is slim, non-root and health-checked; compose wires stratcare, its worker,
PostgreSQL and HAPI FHIR together, and ``docker compose config`` (or docker-compose) accepts the file."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

DOCKER = Path(__file__).resolve().parents[1] / "docker"


def test_the_image_is_slim_non_root_and_health_checked() -> None:
    dockerfile = (DOCKER / "Dockerfile").read_text(encoding="utf-8")
    final_stage = dockerfile.split("FROM ")[-1]
    assert final_stage.startswith("python:3.11-slim")
    assert "USER stratcare" in final_stage
    assert "HEALTHCHECK" in final_stage
    assert "/health" in final_stage


def test_compose_wires_the_service_to_postgres_and_hapi() -> None:
    compose = yaml.safe_load((DOCKER / "compose.yaml").read_text(encoding="utf-8"))
    services = compose["services"]
    assert services["hapi"]["image"].startswith("hapiproject/hapi")
    assert services["postgres"]["image"].startswith("postgres")
    for name in ("stratcare", "worker"):
        environment = services[name]["environment"]
        assert environment["STRATCARE_DATABASE_URL"].startswith("postgresql+psycopg://")
        assert "@postgres:5432/" in environment["STRATCARE_DATABASE_URL"]
        assert environment["STRATCARE_WRITEBACK_EHR_BASE_URL"] == "http://hapi:8080/fhir"
        assert services[name]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["worker"]["command"] == ["stratcare", "worker"]


def _compose_command() -> list[str] | None:
    docker = shutil.which("docker")
    if docker and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0:
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


def test_compose_accepts_the_file() -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor docker-compose is installed")
    result = subprocess.run(
        [*command, "-f", str(DOCKER / "compose.yaml"), "config", "--quiet"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
