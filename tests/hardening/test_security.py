"""Keys, scopes, rate limits (memory and Redis), CORS, docs exposure, audit log, `procure keys`."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.api.security import is_loopback, keys_required, scope_for
from service.cli import app as cli
from service.security.keys import KeyStore
from service.settings import Settings
from tests.hardening.conftest import LIGHT_REQUEST


def _store(client: TestClient) -> KeyStore:
    app = client.app
    assert isinstance(app, FastAPI)
    store: KeyStore = app.state.keys
    return store


def _bearer(key: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {key}"}


def test_keys_required_only_off_loopback_unless_forced() -> None:
    assert not keys_required(Settings(host="127.0.0.1"))
    assert not keys_required(Settings(host="::1"))
    assert keys_required(Settings(host="0.0.0.0"))
    assert keys_required(Settings(host="10.1.2.3"))
    assert keys_required(Settings(host="127.0.0.1", security={"require_keys": True}))
    assert not keys_required(Settings(host="0.0.0.0", security={"require_keys": False}))
    assert is_loopback("localhost") and not is_loopback("example.org")


def test_scopes_by_route() -> None:
    assert scope_for("GET", "/v1/catalog/accelerators") == "read"
    assert scope_for("GET", "/v1/corpus/search") == "read"
    assert scope_for("POST", "/v1/corpus/documents") == "ingest"
    assert scope_for("POST", "/v1/recommendations/whatif") == "plan"
    assert scope_for("POST", "/v1/estimates/cost") == "plan"


def test_non_loopback_bind_requires_a_key_with_the_right_scope(make_client: Callable[..., TestClient]) -> None:
    client = make_client(host="0.0.0.0")
    r = client.get("/v1/catalog/accelerators")
    assert r.status_code == 401 and r.headers["www-authenticate"].startswith("Bearer")
    assert r.json()["code"] == "unauthorized"
    assert client.get("/healthz").status_code == 200  # liveness stays open
    store = _store(client)
    _, read_key = store.create("reader", ["read"])
    _, plan_key = store.create("planner", ["plan", "read"])
    assert client.get("/v1/catalog/accelerators", headers=_bearer(read_key)).status_code == 200
    assert client.get("/v1/catalog/accelerators", headers={"X-API-Key": read_key}).status_code == 200
    r = client.post("/v1/recommendations", json=LIGHT_REQUEST, headers=_bearer(read_key))
    assert r.status_code == 403 and "plan" in r.json()["detail"]
    assert client.post("/v1/recommendations", json=LIGHT_REQUEST, headers=_bearer(plan_key)).status_code == 200
    assert client.get("/v1/catalog/accelerators", headers=_bearer(read_key + "x")).status_code == 401
    assert client.get("/metrics").status_code == 401


def test_revoked_key_stops_working(make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("service.security.keys.CACHE_TTL_S", 0.0)
    client = make_client(security={"require_keys": True})
    store = _store(client)
    key, plain = store.create("tmp", ["admin"])
    assert client.get("/v1/catalog/accelerators", headers=_bearer(plain)).status_code == 200
    assert store.revoke(key.id)
    assert client.get("/v1/catalog/accelerators", headers=_bearer(plain)).status_code == 401


def test_only_the_hmac_digest_is_stored(make_client: Callable[..., TestClient]) -> None:
    client = make_client(security={"secret": "s3cret"})
    store = _store(client)
    key, plain = store.create("x", ["read"])
    import hashlib
    import hmac

    from sqlalchemy import text

    with store._sessions()() as session:  # noqa: SLF001
        rows = session.execute(text("SELECT digest FROM api_keys WHERE id = :i"), {"i": key.id}).all()
    assert rows[0][0] == hmac.new(b"s3cret", plain.encode(), hashlib.sha256).hexdigest()
    assert plain not in rows[0][0]


def test_loopback_allows_no_key_but_rejects_a_bad_one(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    assert client.get("/v1/catalog/accelerators").status_code == 200
    assert client.get("/v1/catalog/accelerators", headers=_bearer("pk_nope_nope")).status_code == 401


@pytest.mark.parametrize("storage", ["memory://", "redis://127.0.0.1:6379"])
def test_rate_limit_gives_429_with_retry_after(make_client: Callable[..., TestClient], storage: str) -> None:
    if storage.startswith("redis"):
        import redis  # installed with limits[redis], a dependency
        try:
            redis.Redis.from_url(storage, socket_connect_timeout=1).ping()
        except Exception as exc:  # noqa: BLE001
            # Redis runs on every development machine and in CI: an unreachable one is a failure to see, not a skip
            pytest.fail(f"Redis not reachable at 127.0.0.1:6379 ({exc}); start a local Redis "
                        "(e.g. `redis-server --port 6379`) for the shared-storage rate-limit test")
    client = make_client(security={"rate_limit": "3/minute", "storage_url": storage})
    _, key = _store(client).create(f"rl-{uuid.uuid4().hex[:6]}", ["read"])  # a fresh identity in shared Redis
    codes = [client.get("/v1/catalog/accelerators", headers=_bearer(key)).status_code for _ in range(4)]
    assert codes == [200, 200, 200, 429]
    r = client.get("/v1/catalog/accelerators", headers=_bearer(key))
    assert r.status_code == 429 and r.json()["code"] == "rate_limited"
    assert 1 <= int(r.headers["retry-after"]) <= 60


def test_per_key_quota(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    _, key = _store(client).create("q", ["read"], quota="2/day")
    codes = [client.get("/v1/catalog/accelerators", headers=_bearer(key)).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
    assert client.get("/v1/catalog/accelerators", headers=_bearer(key)).json()["code"] == "quota_exceeded"


def test_cors_closed_by_default_and_configurable(make_client: Callable[..., TestClient]) -> None:
    pre = {"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}
    closed = make_client()
    r = closed.options("/v1/catalog/accelerators", headers=pre)
    assert "access-control-allow-origin" not in r.headers
    opened = make_client(security={"cors_origins": ["https://app.example"]})
    r = opened.options("/v1/catalog/accelerators", headers={**pre, "Origin": "https://app.example"})
    assert r.headers["access-control-allow-origin"] == "https://app.example"
    r = opened.options("/v1/catalog/accelerators", headers=pre)
    assert "access-control-allow-origin" not in r.headers


def test_docs_hidden_in_production_unless_enabled(make_client: Callable[..., TestClient]) -> None:
    assert make_client().get("/docs").status_code == 200
    prod = make_client(environment="production", host="127.0.0.1")
    assert prod.get("/docs").status_code == 404 and prod.get("/openapi.json").status_code == 404
    assert make_client(environment="production", security={"docs": True}).get("/docs").status_code == 200


def test_audit_log_records_key_use_and_ingests(make_client: Callable[..., TestClient], tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.md").write_text("---\ntitle: A\ndate: 2025-01-01\n---\n# A\n\nH20 has 96 GB of HBM3.\n",
                               encoding="utf-8")
    client = make_client(corpus_dir=docs)
    store = _store(client)
    key, plain = store.create("auditor", ["read", "ingest"])
    assert client.get("/v1/catalog/accelerators", headers=_bearer(plain)).status_code == 200
    assert client.post("/v1/corpus/documents", json={"path": "a.md"}, headers=_bearer(plain)).status_code == 200
    events = store.audit_events()
    kinds = [(e.event, e.key_id, e.status) for e in events]
    assert ("ingest", key.id, 200) in kinds
    assert ("request", key.id, 200) in kinds
    assert ("key_created", key.id, None) in kinds
    assert all(e.request_id for e in events if e.event in ("ingest", "request"))


def test_keys_cli_create_list_revoke(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCURE_DATA_DIR", str(tmp_path / "cli"))
    runner = CliRunner()
    r = runner.invoke(cli, ["keys", "create", "--scope", "read", "--json"])
    assert r.exit_code == 0, r.output
    created = json.loads(r.stdout)
    assert created["key"].startswith("pk_") and created["scopes"] == ["read"]
    listed = json.loads(runner.invoke(cli, ["keys", "list", "--json"]).stdout)
    assert [k["id"] for k in listed] == [created["id"]]
    assert created["key"] not in json.dumps(listed)
    assert runner.invoke(cli, ["keys", "revoke", created["id"]]).exit_code == 0
    assert json.loads(runner.invoke(cli, ["keys", "list", "--json"]).stdout) == []
    bad = runner.invoke(cli, ["keys", "create", "--scope", "root"])
    assert bad.exit_code == 2 and "unknown scope" in bad.output
    assert runner.invoke(cli, ["keys", "revoke", "nope"]).exit_code == 2
