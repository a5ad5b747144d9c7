"""Operations: liveness vs readiness, metrics, JSON logs with request ids, slow clients, the OpenAPI contract."""

from __future__ import annotations

import json
import logging
import socket
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from service.jsonlog import JsonFormatter, request_id_var
from tests.hardening.conftest import LIGHT_REQUEST, Server


def test_readyz_waits_for_the_index_and_healthz_does_not(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    assert client.get("/healthz").status_code == 200
    r = client.get("/readyz")
    assert r.status_code == 503 and r.json()["checks"]["index"] == "not opened yet"
    app = client.app
    assert isinstance(app, FastAPI)
    app.state.ctx.corpus.get()
    r = client.get("/readyz")
    assert r.status_code == 200, r.text
    assert r.json() == {"status": "ready", "checks": {"catalog": "ok", "rules": "ok", "index": "ok",
                                                      "database": "ok"}}


def test_index_is_warmed_at_start_up(make_client: Callable[..., TestClient]) -> None:
    client = make_client(warm_index=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and client.get("/readyz").status_code != 200:
        assert client.get("/readyz").json()["checks"]["index"] in ("warming", "ok")
        time.sleep(0.2)
    assert client.get("/readyz").status_code == 200
    t0 = time.perf_counter()
    assert client.get("/v1/corpus/search", params={"q": "H20"}).status_code == 200
    assert time.perf_counter() - t0 < 5  # the first search no longer builds the index


def test_readyz_reports_an_unreachable_database(make_client: Callable[..., TestClient]) -> None:
    client = make_client(database_url="postgresql+psycopg://nobody@127.0.0.1:1/none")
    r = client.get("/readyz")
    assert r.status_code == 503
    assert r.json()["checks"]["database"].startswith("unreachable")
    assert r.headers["retry-after"]


def test_metrics_expose_requests_latency_solver_cache_jobs(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    series = 'procure_http_requests_total{method="POST",route="/v1/recommendations",status="200"} '

    def count(text: str) -> float:
        return next((float(line.split()[-1]) for line in text.splitlines() if line.startswith(series)), 0.0)

    before = count(client.get("/metrics").text)  # the registry is process-wide: compare, do not assume zero
    assert client.post("/v1/recommendations", json=LIGHT_REQUEST).status_code == 200
    client.get("/v1/catalog/accelerators/h2x")
    text = client.get("/metrics").text
    assert count(text) == before + 1
    assert 'route="/v1/catalog/accelerators/{sku}",status="404"' in text  # templated, not one series per id
    assert "procure_http_request_seconds_bucket" in text
    assert "procure_solver_seconds_count" in text and "procure_solver_seconds_count 0.0" not in text
    assert "procure_estimate_cache_entries" in text and "procure_jobs" in text


def test_request_ids_are_echoed_and_logged(make_client: Callable[..., TestClient],
                                           caplog: pytest.LogCaptureFixture) -> None:
    client = make_client()
    with caplog.at_level(logging.INFO, logger="procure.access"):
        r = client.get("/v1/catalog/accelerators", headers={"X-Request-ID": "abc-123"})
        generated = client.get("/healthz").headers["x-request-id"]
    assert r.headers["x-request-id"] == "abc-123" and len(generated) == 32
    assert client.get("/healthz", headers={"X-Request-ID": "bad id\n"}).headers["x-request-id"] != "bad id\n"
    record = next(rec for rec in caplog.records if getattr(rec, "route", "") == "/v1/catalog/accelerators")
    token = request_id_var.set("abc-123")
    try:
        line = json.loads(JsonFormatter().format(record))
    finally:
        request_id_var.reset(token)
    assert line["msg"] == "request" and line["status"] == 200 and line["method"] == "GET"
    assert line["request_id"] == "abc-123" and "duration_ms" in line


def test_405_carries_allow(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    r = client.get("/v1/recommendations")
    assert r.status_code == 405 and r.headers["allow"] == "POST"
    assert r.headers["content-type"].startswith("application/problem+json")


def test_openapi_documents_problem_json_for_every_error(make_client: Callable[..., TestClient]) -> None:
    spec = make_client().get("/openapi.json").json()
    assert "HTTPValidationError" not in json.dumps(spec)
    assert "Problem" in spec["components"]["schemas"]
    for path, item in spec["paths"].items():
        for method, op in item.items():
            errors = {s: r for s, r in op["responses"].items() if s[0] in "45"}
            assert "500" in errors, (method, path)
            for status, resp in errors.items():
                assert list(resp["content"]) == ["application/problem+json"], (method, path, status)
            if path.startswith("/v1/"):
                assert {"401", "403", "422", "429", "503", "504"} <= set(errors), (method, path)
    search = spec["paths"]["/v1/corpus/search"]["get"]["parameters"]
    q = next(p for p in search if p["name"] == "q")
    assert q["schema"]["minLength"] == 1  # an empty q is rejected, and the schema now says so


@pytest.mark.slow
def test_slow_clients_are_disconnected(server_factory: Callable[..., Server]) -> None:
    srv = server_factory({"PROCURE_LIMITS__HEADER_TIMEOUT_S": "1"})
    silent = socket.create_connection(("127.0.0.1", srv.port))
    trickle = socket.create_connection(("127.0.0.1", srv.port))
    trickle.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")  # headers never finished
    silent.settimeout(5)
    trickle.settimeout(5)
    t0 = time.perf_counter()
    assert silent.recv(100) == b""  # closed by the server
    assert trickle.recv(100) == b""
    assert time.perf_counter() - t0 < 4
    assert httpx.get(f"{srv.url}/healthz", timeout=5).status_code == 200  # normal clients unaffected
    line = next(json.loads(x) for x in srv.output().splitlines() if x.startswith("{") and '"request"' in x)
    assert line["route"] == "/healthz" and line["request_id"]


def test_docs_name_the_uvicorn_limits() -> None:
    readme = (Path(__file__).resolve().parents[2] / "docs" / "settings.md").read_text(encoding="utf-8")
    for setting in ("PROCURE_LIMITS__HEADER_TIMEOUT_S", "PROCURE_LIMITS__MAX_CONNECTIONS",
                    "PROCURE_LIMITS__KEEP_ALIVE_S", "PROCURE_SECURITY__REQUIRE_KEYS"):
        assert setting in readme
