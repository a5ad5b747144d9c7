"""Numbers and bodies: non-finite numbers, huge and chunked bodies, slow bodies, long paths never give a 500."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from service.api.middleware import InputLimitMiddleware
from service.app import create_app
from service.settings import LimitSettings, Settings

TRAINING = '{"params": %s, "tokens": 1e12, "accelerator": "h20", "count": 64}'
INFERENCE = '{"params": 7e10, "accelerator": "h20", "requests_per_s": %s}'
RECOMMEND = ('{"workloads": [{"kind": "training", "name": "t", "params": 7e9, "tokens": 1e12, "deadline_days": %s}],'
             ' "buyer": {"country": "CN", "date": "2026-02-15"}, "objective": "min_cost"}')
WHATIF = ('{"request": {"workloads": [{"kind": "training", "name": "t", "params": 7e9, "tokens": 1e12,'
          ' "deadline_days": 60}], "buyer": {"country": "CN", "date": "2026-02-15"}, "objective": "min_cost"},'
          ' "change": {"price": {"h20": %s}}}')


@pytest.fixture(scope="module")
def shared_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    settings = Settings(data_dir=tmp_path_factory.mktemp("nf"), warm_index=False)
    with TestClient(create_app(settings), raise_server_exceptions=False) as client:
        yield client


@pytest.mark.parametrize("value", ["1e309", "-1e309", "Infinity", "-Infinity", "NaN", '"Infinity"', '"inf"',
                                   '"1e400"', '"nan"'])
@pytest.mark.parametrize(("path", "template"), [
    ("/v1/estimates/training", TRAINING), ("/v1/estimates/inference", INFERENCE),
    ("/v1/recommendations", RECOMMEND), ("/v1/recommendations/whatif", WHATIF),
])
def test_non_finite_numbers_are_422_problems(shared_client: TestClient, path: str, template: str, value: str) -> None:
    r = shared_client.post(path, content=(template % value).encode(), headers={"content-type": "application/json"})
    assert r.status_code == 422, r.text
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == "non_finite_number"


def test_finite_numbers_still_work(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    r = client.post("/v1/estimates/training", content=(TRAINING % "7e9").encode(),
                    headers={"content-type": "application/json"})
    assert r.status_code == 200, r.text
    assert r.json()["accelerator_hours"] > 0


def test_chunked_body_over_the_limit_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_request_bytes=10_000)
    sent = 0

    def chunks() -> Any:
        nonlocal sent
        for _ in range(100):
            sent += 4096
            yield b" " * 4096

    r = client.post("/v1/estimates/training", content=chunks(), headers={"content-type": "application/json"})
    assert r.status_code == 413, r.text
    assert r.json()["code"] == "payload_too_large"
    assert "content-length" not in {k.lower() for k in r.request.headers}  # really chunked


def test_declared_length_over_the_limit_is_413(make_client: Callable[..., TestClient]) -> None:
    client = make_client(max_request_bytes=10_000)
    r = client.post("/v1/estimates/training", content=b"{" + b" " * 20_000 + b"}",
                    headers={"content-type": "application/json"})
    assert r.status_code == 413


def test_long_ingest_path_is_a_422_not_a_500(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    r = client.post("/v1/corpus/documents", json={"path": "a" * 300})
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "source_invalid"


def test_long_path_parameter_is_414(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    r = client.get("/v1/catalog/accelerators/" + "x" * 300)
    assert r.status_code == 414
    assert r.json()["code"] == "uri_too_long"
    assert client.get("/v1/catalog/accelerators/" + "x" * 200).status_code == 404


def test_slow_body_is_408() -> None:
    async def app(scope: Any, receive: Any, send: Any) -> None:
        raise AssertionError("the app must not run")

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if not sent:
            sent.append({})
            return {"type": "http.request", "body": b"{", "more_body": True}
        await asyncio.sleep(60)
        raise AssertionError("unreachable")

    out: list[dict[str, Any]] = []

    async def send(message: dict[str, Any]) -> None:
        out.append(message)

    mw = InputLimitMiddleware(app, max_body_bytes=1000, limits=LimitSettings(body_timeout_s=0.2))
    scope = {"type": "http", "method": "POST", "path": "/v1/estimates/training", "headers": []}
    asyncio.run(asyncio.wait_for(mw(scope, receive, send), timeout=5))
    assert out[0]["status"] == 408
