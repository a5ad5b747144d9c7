"""Bounded work: request limits, solver budget, deadline, disconnect, graceful shutdown, bounded cache."""

from __future__ import annotations

import asyncio
import json
import signal
import threading
import time
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from optimizer.cancel import WorkCancelledError, WorkControl, controlled
from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.estimator import TrainingRequest
from optimizer.recommend import recommend
from optimizer.request import PurchaseRequest
from optimizer.table import EstimateCache
from service.app import create_app
from service.settings import Settings
from tests.hardening.conftest import HEAVY_LIMITS, LIGHT_REQUEST, Server, heavy_request


def test_too_many_workloads_or_alternatives_is_422(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits={"max_workloads": 3, "max_alternatives": 2})
    r = client.post("/v1/recommendations", json=heavy_request(4, alternatives=1))
    assert r.status_code == 422 and r.json()["code"] == "limit_exceeded"
    assert "at most 3" in r.json()["detail"]
    r = client.post("/v1/recommendations", json={**LIGHT_REQUEST, "alternatives": 3})
    assert r.status_code == 422 and "alternatives" in r.json()["detail"]
    # the cap lives in the use case (so CLI, agent and batch obey it too): it judges a valid request
    r = client.post("/v1/recommendations/whatif", json={"request": heavy_request(4),
                                                          "change": {"price_changes": {"h20": 0.1}}})
    assert r.status_code == 422 and r.json()["code"] == "limit_exceeded"
    assert client.post("/v1/recommendations", json=LIGHT_REQUEST).status_code == 200


@pytest.mark.slow
@pytest.mark.serial
def test_solver_budget_bounds_the_cpsat_time_of_one_request(catalog: Catalog, engine: ComplianceEngine) -> None:
    request = PurchaseRequest.model_validate(heavy_request())
    control = WorkControl(solver_budget_s=1.0)
    start = time.perf_counter()
    with controlled(control):
        plan = recommend(catalog, engine, request, time_limit_s=5)
    assert control.solver_seconds <= 1.0 + 0.5  # the last solve may overrun its limit slightly
    assert time.perf_counter() - start < 10  # about 20 s without the budget
    assert plan.status in ("optimal", "feasible", "unknown")


def test_pareto_points_are_capped(catalog: Catalog, engine: ComplianceEngine) -> None:
    request = PurchaseRequest.model_validate({**heavy_request(2, alternatives=0), "pareto": True})
    full = recommend(catalog, engine, request, time_limit_s=2)
    capped = recommend(catalog, engine, request, time_limit_s=2, pareto_points=2)
    assert len(full.pareto) > 2
    assert len(capped.pareto) == 2 and capped.pareto == full.pareto[:2]


@pytest.mark.serial
def test_cancel_stops_a_running_solve(catalog: Catalog, engine: ComplianceEngine) -> None:
    request = PurchaseRequest.model_validate(heavy_request())
    control = WorkControl()
    threading.Timer(0.5, control.cancel, args=("shutdown",)).start()
    start = time.perf_counter()
    with pytest.raises(WorkCancelledError) as info, controlled(control):
        recommend(catalog, engine, request, time_limit_s=5)
    assert info.value.reason == "shutdown"
    assert time.perf_counter() - start < 3


@pytest.mark.slow
@pytest.mark.serial
def test_deadline_gives_504_and_cancels(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits={"request_deadline_s": 1.5, "solver_budget_s": 120, **HEAVY_LIMITS})
    start = time.perf_counter()
    r = client.post("/v1/recommendations", json=heavy_request())
    elapsed = time.perf_counter() - start
    assert r.status_code == 504, r.text
    assert r.json()["code"] == "deadline_exceeded"
    assert elapsed < 6  # the solve alone takes about 20 s
    assert client.get("/healthz").status_code == 200


def _asgi_call(app: FastAPI, body: bytes, disconnect_after_s: float) -> tuple[list[dict[str, Any]], float]:
    """Drive the app like a server whose client hangs up after ``disconnect_after_s``."""
    messages: list[dict[str, Any]] = []

    async def run() -> float:
        delivered = False

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            await asyncio.sleep(disconnect_after_s)
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            messages.append(message)

        scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "POST",
                 "scheme": "http", "path": "/v1/recommendations", "raw_path": b"/v1/recommendations",
                 "query_string": b"", "root_path": "", "headers": [(b"content-type", b"application/json"),
                                                                    (b"host", b"test")],
                 "client": ("127.0.0.1", 5000), "server": ("127.0.0.1", 80), "state": {}}
        start = time.perf_counter()
        await app(scope, receive, send)
        return time.perf_counter() - start

    return messages, asyncio.run(run())


@pytest.mark.slow
@pytest.mark.serial
def test_client_disconnect_cancels_the_solve(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits={"request_deadline_s": 120, "solver_budget_s": 120, **HEAVY_LIMITS})
    app = client.app
    assert isinstance(app, FastAPI)
    _, elapsed = _asgi_call(app, json.dumps(heavy_request()).encode(), disconnect_after_s=0.5)
    assert elapsed < 5  # runs about 20 s when nobody cancels
    metrics = client.get("/metrics").text
    assert 'procure_rejected_total{reason="client_disconnected"} ' in metrics


@pytest.mark.slow
@pytest.mark.serial
def test_graceful_shutdown_stops_in_flight_solves_promptly(server_factory: Callable[..., Server]) -> None:
    srv = server_factory({"PROCURE_LIMITS__SOLVER_BUDGET_S": "120", "PROCURE_LIMITS__REQUEST_DEADLINE_S": "120",
                          "PROCURE_LIMITS__MAX_WORKLOADS": "20", "PROCURE_LIMITS__MAX_ALTERNATIVES": "10"})
    result: dict[str, Any] = {}

    def call() -> None:
        try:
            result["status"] = httpx.post(f"{srv.url}/v1/recommendations", json=heavy_request(), timeout=60
                                          ).status_code
        except httpx.HTTPError as exc:
            result["error"] = exc

    worker = threading.Thread(target=call)
    worker.start()
    time.sleep(1.5)
    # under load: liveness answers at once while the solve runs (the solve is off the event loop)
    t0 = time.perf_counter()
    assert httpx.get(f"{srv.url}/healthz", timeout=5).status_code == 200
    assert time.perf_counter() - t0 < 1.0
    start = time.perf_counter()
    srv.proc.send_signal(signal.SIGTERM)
    srv.proc.wait(timeout=30)
    stopped = time.perf_counter() - start
    worker.join(timeout=30)
    assert stopped < 5, srv.output()  # the solve alone takes about 20 s
    assert result.get("status") == 503, result
    assert "cancelled 1 request" in srv.output()


def test_estimate_cache_is_a_bounded_lru(catalog: Catalog) -> None:
    cache = EstimateCache(max_entries=3)
    reqs = [TrainingRequest(params=p * 1e9, tokens=1e12, accelerator="h20", count=64) for p in (1, 2, 3, 4)]
    for r in reqs[:3]:
        cache.training(catalog, r)
    cache.training(catalog, reqs[0])  # refresh: reqs[1] is now the least recently used
    cache.training(catalog, reqs[3])
    assert len(cache) == 3 and cache.evictions == 1
    hits = cache.hits
    cache.training(catalog, reqs[0])
    assert cache.hits == hits + 1
    cache.training(catalog, reqs[1])
    assert cache.misses == 5  # reqs[1] was evicted and had to be estimated again


def test_estimate_cache_bound_comes_from_settings(make_client: Callable[..., TestClient]) -> None:
    client = make_client(limits={"estimate_cache_entries": 7})
    app = client.app
    assert isinstance(app, FastAPI)
    assert app.state.ctx.domain.cache.max_entries == 7
    client.post("/v1/recommendations", json=LIGHT_REQUEST)
    assert "procure_estimate_cache_entries" in client.get("/metrics").text


def test_settings_document_every_limit() -> None:
    fields = Settings.model_fields["limits"].annotation.model_fields  # type: ignore[union-attr]
    assert {"max_workloads", "max_alternatives", "max_pareto_points", "solver_budget_s", "request_deadline_s",
            "estimate_cache_entries"} <= set(fields)
    assert all(f.description for f in fields.values())
    assert create_app  # the app factory reads them (covered above)


def test_an_empty_shared_cache_is_used(catalog: Catalog, engine: ComplianceEngine) -> None:
    cache = EstimateCache(max_entries=1000)
    recommend(catalog, engine, PurchaseRequest.model_validate(LIGHT_REQUEST), cache=cache, time_limit_s=2)
    assert len(cache) > 0
