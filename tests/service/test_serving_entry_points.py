"""Serving knobs through every entry point: `estimate inference`, `validate --set serving`, `recommend`, HTTP."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from service.app import create_app
from service.cli import app
from service.settings import Settings

runner = CliRunner()


def run(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(app, list(args))
    return r.exit_code, r.stdout, r.stderr


@pytest.fixture(scope="module")
def client() -> Iterator[TestClient]:
    with TestClient(create_app(Settings()), raise_server_exceptions=False) as c:
        yield c


def test_estimate_inference_with_engine_precisions_and_pp() -> None:
    code, out, err = run("estimate", "inference", "--model", "llama-3-70b", "--accelerator", "rtx-pro-6000",
                         "--precision", "fp4", "--kv-precision", "fp8", "--engine", "trtllm", "--tp", "1", "--pp",
                         "4", "--count", "4", "--prompt-histogram", "128:0.5,2K:0.5", "--output-std", "200",
                         "--latency-basis", "p99", "--json")
    assert code == 0, err
    body = json.loads(out)
    assert body["engine"] == "trtllm" and body["precision"] == "fp4" and body["kv_precision"] == "fp8"
    assert body["pp"] == 4 and body["tp"] == 1 and body["accelerators"] == 4
    assert body["ttft_p99_s"] is not None and body["ttft_p50_s"] <= body["ttft_p99_s"]
    assert body["tpot_p99_s"] <= 0.10 + 1e-9 and body["latency_basis"] == "p99"
    assert body["step"]["pp_comm_s"] > 0


def test_estimate_inference_offline_text_and_errors() -> None:
    code, out, _ = run("estimate", "inference", "--model", "llama-3-8b", "--accelerator", "h100", "--precision",
                       "fp8", "--offline", "--count", "8")
    assert code == 0 and "output tokens/s per accelerator" in out and "cycle" in out
    assert "unbounded at full load" in out and "TPOT limit" not in out
    code, out, err = run("estimate", "inference", "--model", "llama-3-70b", "--accelerator", "h100",
                         "--precision", "fp4")
    assert code == 2 and out == "" and "FP4" in err and "Traceback" not in err
    code, _, err = run("estimate", "inference", "--params", "70B", "--accelerator", "h100", "--prompt-histogram",
                       "128-0.5")
    assert code == 2 and "tokens:weight" in err
    code, _, err = run("estimate", "inference", "--params", "70B", "--accelerator", "h100", "--engine", "tgi")
    assert code == 2


def test_validate_serving_set() -> None:
    code, out, err = run("validate", "--set", "serving", "--json")
    assert code == 0, err
    report = json.loads(out)
    assert report["by_set"]["dev"]["n"] == 11 and report["by_set"]["dev"]["median_abs_error"] <= 0.10
    ids = {r["id"] for r in report["rows"]}
    assert "mlperf50-b200x8-llama2-70b-offline" in ids
    code, out, _ = run("validate", "--set", "serving")
    assert code == 0 and "median |error|" in out and "mlperf41-h100x8-llama2-70b-server" in out


def test_validate_serving_bad_file(tmp_path: Path) -> None:
    path = tmp_path / "runs.yaml"
    path.write_text("runs: [{id: x}]\n", encoding="utf-8")
    code, out, err = run("validate", "--set", "serving", "--runs", str(path))
    assert code == 2 and out == "" and "Traceback" not in err


def test_recommend_serving_knobs_reach_the_plan() -> None:
    code, out, err = run("recommend", "--workload", "inference", "--model", "qwen2.5-72b", "--requests-per-s",
                         "20", "--buyer-country", "DE", "--date", "2026-02-15", "--precision", "fp8",
                         "--kv-precision", "fp8", "--engine", "vllm", "--ttft", "1.5", "--tpot", "0.05", "--skus",
                         "h200,h100", "--json")
    assert code == 0, err
    plan = json.loads(out)
    items = [i for i in plan["items"] if i["kind"] == "inference"]
    assert items, plan["message"]
    for item in items:
        s = item["serving"]
        assert s["engine"] == "vllm" and s["precision"] == "fp8" and s["kv_precision"] == "fp8"
        assert s["latency_basis"] == "p99" and s["ttft_s"] <= 1.5 and s["tpot_s"] <= 0.05
        assert "vllm fp8/fp8 KV" in item["plan"]
    code, _, err = run("recommend", "--params", "70B", "--tokens", "1T", "--engine", "vllm", "--buyer-country", "DE")
    assert code == 2 and "--workload inference" in err


def test_request_file_with_serving_fields(tmp_path: Path) -> None:
    path = tmp_path / "serve.yaml"
    path.write_text(
        "workloads:\n"
        "  - {kind: inference, name: chat, model: llama-3-70b, requests_per_s: 10, precision: fp8,\n"
        "     kv_precision: fp8, engine: trtllm, tp: 2, pp: 1, latency_basis: p99, ttft_s: 2, tpot_s: 0.08,\n"
        "     output_tokens_std: 300, prefix_cache_hit: 0.3}\n"
        "buyer: {country: DE, date: 2026-02-15}\n"
        "skus: [h200]\n", encoding="utf-8")
    code, out, err = run("recommend", "--request", str(path), "--json")
    assert code == 0, err
    item = json.loads(out)["items"][0]
    assert item["serving"]["engine"] == "trtllm" and item["serving"]["tp"] == 2


def test_http_estimate_and_recommendation_with_serving_fields(client: TestClient) -> None:
    r = client.post("/v1/estimates/inference", json={
        "model": "qwen3-235b-a22b", "accelerator": "h200", "precision": "fp8", "kv_precision": "fp8",
        "engine": "sglang", "ep": 8, "count": "8", "prompt_histogram": [[512, 1], ["2K", 1]], "ttft_s": 3,
        "latency_basis": "p90"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["engine"] == "sglang" and body["moe_mode"] == "dep" and body["latency_basis"] == "p90"
    r = client.post("/v1/estimates/inference", json={"params": 7e9, "accelerator": "h100", "engine": "tgi"})
    assert r.status_code == 422 and r.headers["content-type"].startswith("application/problem+json")
    r = client.post("/v1/estimates/inference", json={"params": 7e9, "accelerator": "h100", "precision": "fp4"})
    assert r.status_code == 422
    r = client.post("/v1/recommendations", json={
        "workloads": [{"kind": "inference", "model": "llama-3-8b", "requests_per_s": 50, "engine": "trtllm",
                       "precision": "fp8", "kv_precision": "fp8", "pp": 1}],
        "buyer": {"country": "DE", "date": "2026-02-15"}, "skus": ["h100"]})
    assert r.status_code == 200, r.text
    assert r.json()["items"][0]["serving"]["engine"] == "trtllm"
