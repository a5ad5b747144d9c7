"""HTTP API: health, catalog, compliance; errors are problem+json, never 500."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.settings import Settings


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings()), raise_server_exceptions=False) as c:
        yield c


def test_health(client: TestClient) -> None:
    r = client.get("/healthz")
    assert r.status_code == 200
    assert r.json()["status"] == "ok" and r.json()["accelerators"] >= 18


def test_catalog_endpoints(client: TestClient) -> None:
    rows = client.get("/v1/catalog/accelerators").json()
    assert any(r["id"] == "h20" for r in rows)
    assert all(r["vendor"] == "huawei" for r in client.get("/v1/catalog/accelerators?vendor=huawei").json())
    detail = client.get("/v1/catalog/accelerators/Nvidia H20")
    assert detail.status_code == 200 and detail.json()["id"] == "h20"


def test_unknown_sku_is_404_problem(client: TestClient) -> None:
    r = client.get("/v1/catalog/accelerators/h2x")
    assert r.status_code == 404
    assert r.headers["content-type"].startswith("application/problem+json")
    body = r.json()
    assert body["code"] == "unknown_sku" and "h20" in body["suggestions"]


def test_compliance_check(client: TestClient) -> None:
    r = client.post("/v1/compliance/check", json={"sku": "h200", "buyer_country": "CN", "date": "2026-02-15"})
    assert r.status_code == 200
    body = r.json()
    assert body["verdict"] == "license_required" and body["license_outlook"] == "case_by_case"
    assert body["classification"] == "3A090.a"


@pytest.mark.parametrize(
    ("payload", "status", "code"),
    [
        ({"sku": "h20", "buyer_country": "CN", "date": "2025-13-01"}, 422, "validation_error"),
        ({"sku": "h20", "buyer_country": "XX", "date": "2025-01-01"}, 422, "unknown_country"),
        ({"sku": "zz9", "buyer_country": "CN", "date": "2025-01-01"}, 404, "unknown_sku"),
        ({"sku": "h20", "buyer_country": "CN", "date": "2025-01-01", "buyer_kind": "military"}, 422,
         "validation_error"),
        ({"sku": "h20", "date": "2025-01-01"}, 422, "validation_error"),
        ({"sku": "h20", "buyer_country": "CN", "date": "2025-01-01", "extra": 1}, 422, "validation_error"),
    ],
)
def test_bad_compliance_requests(client: TestClient, payload: dict[str, object], status: int, code: str) -> None:
    r = client.post("/v1/compliance/check", json=payload)
    assert r.status_code == status
    assert r.headers["content-type"].startswith("application/problem+json")
    assert r.json()["code"] == code


def test_malformed_json_and_unknown_route(client: TestClient) -> None:
    r = client.post("/v1/compliance/check", content=b"{nope", headers={"content-type": "application/json"})
    assert r.status_code == 422 and r.json()["code"] == "validation_error"
    assert client.get("/v1/nothing").json()["code"] == "not_found"


def test_oversized_body_is_413(client: TestClient) -> None:
    r = client.post("/v1/compliance/check", content=b"x" * 2_000_000, headers={"content-type": "application/json"})
    assert r.status_code == 413 and r.json()["code"] == "payload_too_large"


def test_openapi_documents_the_routes(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/healthz", "/v1/compliance/check", "/v1/catalog/accelerators/{sku}"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200


def test_training_estimate_endpoint(client: TestClient) -> None:
    r = client.post("/v1/estimates/training",
                    json={"params": 70e9, "tokens": 1.4e12, "accelerator": "ascend-910b", "count": 1024})
    assert r.status_code == 200
    body = r.json()
    assert body["status"] == "ok" and body["plan"]["tp"] >= 1 and body["mfu_peak"].startswith("fp16")


@pytest.mark.parametrize(
    "payload",
    [
        {"params": 70e9, "tokens": 1e12, "accelerator": "h100-sxm", "count": 0},
        {"params": 70e9, "tokens": 1e12, "accelerator": "h100-sxm"},
        {"params": "big", "tokens": 1e12, "accelerator": "h100-sxm", "count": 8},
        {"params": 7e9, "tokens": 1e12, "accelerator": "a100-80gb", "count": 8, "precision": "fp8"},
        {"params": 7e9, "tokens": 1e12, "accelerator": "a100-80gb", "count": 8, "precision": "fp4"},
    ],
)
def test_training_estimate_bad_input_is_422(client: TestClient, payload: dict[str, object]) -> None:
    r = client.post("/v1/estimates/training", json=payload)
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


def test_inference_and_cost_endpoints(client: TestClient) -> None:
    r = client.post("/v1/estimates/inference", json={"params": 72e9, "accelerator": "h20", "requests_per_s": 100})
    assert r.status_code == 200 and r.json()["status"] == "ok"
    r = client.post("/v1/estimates/cost", json={"accelerator": "h20", "accelerators": 64, "currency": "USD"})
    assert r.status_code == 200 and r.json()["nodes"] == 8
    r = client.post("/v1/estimates/cost", json={"accelerator": "l2", "accelerators": 8})
    assert r.status_code == 422 and r.json()["code"] == "invalid_input"


CHINA_BODY = {"workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
              "buyer": {"country": "CN", "date": "2025-08-01"}, "budget": {"amount": "5000万", "currency": "CNY"},
              "objective": "min_time"}


def test_recommendations_endpoint(client: TestClient) -> None:
    r = client.post("/v1/recommendations", json=CHINA_BODY)
    assert r.status_code == 200
    plan = r.json()
    assert plan["status"] == "optimal" and plan["total_cost"] <= 50e6 and plan["validation"]["ok"]


@pytest.mark.parametrize(
    "patch",
    [{"budget": {"amount": -1}}, {"budget": {"amount": 5, "currency": "EUR"}}, {"objective": "fastest"},
     {"workloads": [{"params": 7e9, "tokens": 1e12, "deadline_days": 0}]}, {"buyer": {"country": "China"}}],
)
def test_recommendations_bad_input(client: TestClient, patch: dict[str, object]) -> None:
    r = client.post("/v1/recommendations", json={**CHINA_BODY, **patch})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")


def test_whatif_endpoint(client: TestClient) -> None:
    r = client.post("/v1/recommendations/whatif", json={"request": CHINA_BODY, "change": {"remove_skus": ["h20"]}})
    assert r.status_code == 200 and "h20 becomes unavailable" in r.json()["changes"]
    r = client.post("/v1/recommendations/whatif", json={"request": CHINA_BODY, "change": {"remove_skus": ["zz"]}})
    assert r.status_code == 404 and r.json()["code"] == "unknown_sku"


def test_training_estimate_with_a_model_preset(client: TestClient) -> None:
    r = client.post("/v1/estimates/training", json={"model": "DeepSeek-V3", "tokens": 14.8e12, "accelerator": "h800",
                                                    "count": 2048, "precision": "fp8", "steady_state": True,
                                                    "plan": {"ep": 64, "recompute": "selective"}})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["shape"]["attention"] == "mla" and body["plan"]["ep"] == 64 and body["goodput"] == 1.0
    bad = client.post("/v1/estimates/training", json={"model": "nope", "tokens": 1e12, "accelerator": "h100-sxm",
                                                      "count": 8})
    assert bad.status_code == 422 and "unknown model" in bad.text


def test_recommendation_body_accepts_a_model_preset(client: TestClient) -> None:
    body = {**CHINA_BODY, "workloads": [{"kind": "training", "model": "Qwen2.5-72B", "tokens": "1.4T"}]}
    r = client.post("/v1/recommendations", json=body)
    assert r.status_code == 200, r.text
    bad = client.post("/v1/recommendations", json={**CHINA_BODY, "workloads": [{"model": "nope", "tokens": "1T"}]})
    assert bad.status_code == 422 and "unknown model" in bad.text
