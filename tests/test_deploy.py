"""docker-compose.yml is validated by a real validator (Debian's docker-compose, no daemon needed) and its
settings are checked against ``service.Settings``; the image carries the extras each service needs."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import pytest
import yaml

from service.settings import Settings

ROOT = Path(__file__).resolve().parents[1]
COMPOSE = shutil.which("docker-compose")
NO_COMPOSE = ("docker-compose is not installed and scripts/system-deps.sh (run by make test) could not install it "
              "(it needs root and apt)")
needs_compose = pytest.mark.skipif(COMPOSE is None, reason=NO_COMPOSE)


def _config(path: Path = ROOT / "docker-compose.yml", **env: str) -> subprocess.CompletedProcess[str]:
    assert COMPOSE is not None
    clean = {k: v for k, v in os.environ.items() if k != "POSTGRES_PASSWORD"}
    return subprocess.run([COMPOSE, "-f", str(path), "config"], cwd=path.parent, env={**clean, **env},
                          capture_output=True, text=True, check=False, timeout=120)


@pytest.fixture(scope="module")
def resolved() -> dict[str, Any]:
    """The compose file as docker-compose resolves it (anchors merged, variables substituted)."""
    if COMPOSE is None:
        pytest.skip(reason=NO_COMPOSE)
    proc = _config(POSTGRES_PASSWORD="s3cret")
    assert proc.returncode == 0, proc.stderr
    data: dict[str, Any] = yaml.safe_load(proc.stdout)
    return data


@needs_compose
def test_docker_compose_config_accepts_the_file() -> None:
    proc = _config(POSTGRES_PASSWORD="s3cret")
    assert proc.returncode == 0, proc.stderr


@needs_compose
def test_the_validator_is_real_it_rejects_a_broken_file(tmp_path: Path) -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    broken = tmp_path / "docker-compose.yml"
    broken.write_text(text.replace("    healthcheck:\n", "    healthcheck:\n      testt: [oops]\n", 1),
                      encoding="utf-8")
    assert _config(broken, POSTGRES_PASSWORD="x").returncode != 0


@needs_compose
def test_compose_refuses_to_start_without_the_database_password() -> None:
    proc = _config()
    assert proc.returncode != 0 and "POSTGRES_PASSWORD" in proc.stderr


def test_compose_has_the_designed_services_with_healthchecks(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    assert {"api", "chroma", "postgres", "ray-head", "ray-worker"} <= set(services)
    for name, svc in services.items():
        assert svc.get("healthcheck", {}).get("test"), name
        assert "image" in svc or "build" in svc, name
    deps = services["api"]["depends_on"]
    assert {"chroma", "postgres", "ray-head"} <= set(deps)
    assert all(d["condition"] == "service_healthy" for d in deps.values())


def test_chroma_healthcheck_uses_only_what_its_image_ships(resolved: dict[str, Any]) -> None:
    probe = " ".join(resolved["services"]["chroma"]["healthcheck"]["test"])
    assert not any(tool in probe for tool in ("curl", "wget", "python"))


def test_ray_services_run_an_image_built_with_the_ray_extra(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["optional-dependencies"]
    assert any(dep.startswith("ray[default]") for dep in extras["ray"])
    core = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    assert not any(dep.startswith("ray") for dep in core), "Ray stays optional"
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert re.search(r'pip install .*"\.\[\$\{EXTRAS\}\]"', dockerfile)
    for name in ("api", "ray-head", "ray-worker"):
        build = services[name]["build"]
        wanted = set(build["args"]["EXTRAS"].split(","))
        assert {"ray", "postgres"} <= wanted, name
        assert services[name]["image"] == services["api"]["image"], "one image: the same Ray version everywhere"


def test_every_procure_variable_is_a_setting_and_is_read(resolved: dict[str, Any],
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    api = resolved["services"]["api"]["environment"]
    for svc in resolved["services"].values():
        for key in svc.get("environment", {}):
            if key.startswith("PROCURE_"):
                field = key.removeprefix("PROCURE_").split("__")[0].lower()
                assert field in Settings.model_fields, key
    for key, value in api.items():
        monkeypatch.setenv(key, str(value))
    settings = Settings()
    assert settings.database_url == "postgresql+psycopg://procure:s3cret@postgres:5432/procure"
    assert settings.ray_address == "ray://ray-head:10001"
    assert settings.chroma.mode == "http" and settings.chroma.host == "chroma" and settings.chroma.port == 8000
    assert str(settings.data_dir) == "/data" and settings.environment == "production"


def test_secrets_fail_fast_when_missing() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for match in re.finditer(r"\$\{([A-Z_]+)([^}]*)\}", text):
        assert match.group(2).startswith(":?"), f"${{{match.group(1)}}} must fail when unset"


def test_only_the_keyed_api_publishes_a_port(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"api"}
    assert services["api"]["environment"]["PROCURE_SECURITY__REQUIRE_KEYS"] == "true"


def test_our_containers_run_as_non_root_and_ray_dashboard_is_not_exposed(resolved: dict[str, Any]) -> None:
    services = resolved["services"]
    for name in ("api", "ray-head", "ray-worker"):
        assert services[name]["user"] == "10001:10001", name
    head = services["ray-head"]["command"]
    assert "--include-dashboard=false" in head or "--dashboard-host=127.0.0.1" in head  # off, or loopback only
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "\nUSER procure" in dockerfile and "PROCURE_SECURITY__REQUIRE_KEYS=true" in dockerfile
