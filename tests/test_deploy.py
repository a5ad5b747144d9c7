"""docker-compose.yml is checked by parsing (no Docker daemon here)."""

from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def _compose() -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text(encoding="utf-8"))


def test_compose_has_the_designed_services_with_healthchecks() -> None:
    services = _compose()["services"]
    assert {"api", "chroma", "postgres", "ray-head", "ray-worker"} <= set(services)
    for name, svc in services.items():
        assert "healthcheck" in svc and svc["healthcheck"]["test"], name
        assert "image" in svc or "build" in svc, name


def test_api_waits_for_healthy_dependencies() -> None:
    deps = _compose()["services"]["api"]["depends_on"]
    assert all(d["condition"] == "service_healthy" for d in deps.values())
    assert {"chroma", "postgres"} <= set(deps)


def test_secrets_fail_fast_when_missing() -> None:
    text = (ROOT / "docker-compose.yml").read_text(encoding="utf-8")
    for match in re.finditer(r"\$\{([A-Z_]+)([^}]*)\}", text):
        assert match.group(2).startswith(":?"), f"${{{match.group(1)}}} must fail when unset"


def test_api_uses_procure_settings() -> None:
    env = _compose()["services"]["api"]["environment"]
    assert all(k.startswith("PROCURE_") for k in env)
    assert env["PROCURE_CHROMA__MODE"] == "http"


def test_only_the_keyed_api_publishes_a_port() -> None:
    services = _compose()["services"]
    published = {name for name, svc in services.items() if svc.get("ports")}
    assert published == {"api"}
    assert services["api"]["environment"]["PROCURE_SECURITY__REQUIRE_KEYS"] == "true"


def test_our_containers_run_as_non_root_and_ray_dashboard_on_loopback() -> None:
    services = _compose()["services"]
    for name in ("api", "ray-head", "ray-worker"):
        assert services[name]["user"] == "10001:10001", name
    assert "--dashboard-host=127.0.0.1" in services["ray-head"]["command"]
    dockerfile = (ROOT / "Dockerfile").read_text(encoding="utf-8")
    assert "\nUSER procure" in dockerfile and "PROCURE_SECURITY__REQUIRE_KEYS=true" in dockerfile
