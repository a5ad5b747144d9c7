"""docker-compose.yml: the batch worker service is wired to PostgreSQL and Ray, consistent with Settings."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[2]


def _services() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))
    return dict(data["services"])


def test_the_worker_runs_jobs_on_ray_against_the_apis_database() -> None:
    services = _services()
    worker, api = services["worker"], services["api"]
    assert worker["command"][:3] == ["procure", "batch", "worker"] and "ray" in worker["command"]
    assert worker["environment"]["PROCURE_DATABASE_URL"] == api["environment"]["PROCURE_DATABASE_URL"]
    assert worker["environment"]["PROCURE_RAY_ADDRESS"] == api["environment"]["PROCURE_RAY_ADDRESS"]
    assert api["environment"]["PROCURE_JOBS__RUN_IN_API"] == "false"  # the worker service runs the jobs
    assert {d: c["condition"] for d, c in worker["depends_on"].items()} == {
        "postgres": "service_healthy", "ray-head": "service_healthy"}
    assert worker["healthcheck"]["test"][1:3] == ["procure", "batch"]


@pytest.mark.parametrize("service", ["api", "worker"])
def test_the_environment_is_valid_settings(service: str, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _services()[service]["environment"]
    for key, value in env.items():
        assert key.startswith("PROCURE_")
        monkeypatch.setenv(key, str(value).replace("${POSTGRES_PASSWORD:?set POSTGRES_PASSWORD}", "pw"))
    settings = Settings()
    assert settings.resolved_database_url.startswith("postgresql+psycopg://procure:pw@postgres")
    assert settings.ray_address == "ray://ray-head:10001"
    if service == "api":
        assert settings.jobs.run_in_api is False


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_docker_compose_accepts_the_file() -> None:
    proc = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config", "-q"],
                          env={**os.environ, "POSTGRES_PASSWORD": "x"}, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr


@pytest.mark.skipif(shutil.which("docker-compose") is None, reason="docker-compose is not installed")
def test_every_service_restarts_builds_and_proves_liveness() -> None:
    proc = subprocess.run(["docker-compose", "-f", str(ROOT / "docker-compose.yml"), "config"],
                          env={**os.environ, "POSTGRES_PASSWORD": "x"}, capture_output=True, text=True, check=True)
    services: dict[str, Any] = yaml.safe_load(proc.stdout)["services"]
    assert {name: svc.get("restart") for name, svc in services.items()} == dict.fromkeys(services, "unless-stopped")
    for name in ("api", "worker", "ray-head", "ray-worker"):  # one image, built here (never pulled)
        assert services[name]["build"]["context"] and services[name]["image"] == "procure:latest", name
        assert services[name]["user"] == "10001:10001", name
    for name in ("ray-head", "ray-worker"):
        assert services[name]["shm_size"], name  # Ray's object store lives in /dev/shm
    assert services["worker"]["healthcheck"]["test"][1:4] == ["procure", "batch", "worker-health"]
    assert services["worker"]["environment"]["PROCURE_DATA_DIR"] == "/data"  # where its state report lives
    assert "heartbeat" in " ".join(services["chroma"]["healthcheck"]["test"])
    assert "raylet" in " ".join(services["ray-worker"]["healthcheck"]["test"])  # this node's process, not the head
