"""/v1/jobs: submission with Idempotency-Key, status, streamed results, summary, cancel, restart resume."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from service.app import create_app
from service.jobs.store import JobStore
from service.settings import JobSettings, Settings
from tests.jobs.conftest import BASE

SPEC: dict[str, Any] = {"name": "api sweep", "base": BASE,
                        "sweep": {"budget.amount": [3e7, 1e8, 3e8], "buyer.country": ["CN", "DE"]}}


def _client(db_url: str, tmp_path: Path, *, run: bool) -> TestClient:
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url,
                        jobs=JobSettings(run_in_api=run, workers=1, poll_s=0.1))
    return TestClient(create_app(settings))


@pytest.fixture
def idle_client(db_url: str, tmp_path: Path) -> Iterator[TestClient]:
    with _client(db_url, tmp_path, run=False) as c:
        yield c


def test_same_idempotency_key_twice_is_one_job(idle_client: TestClient) -> None:
    first = idle_client.post("/v1/jobs", json=SPEC, headers={"Idempotency-Key": "nightly-2026-11-30"})
    assert first.status_code == 201
    job = first.json()
    assert first.headers["location"] == f"/v1/jobs/{job['id']}"
    assert job["total"] == 6 and job["state"] == "pending" and job["progress"] == 0
    second = idle_client.post("/v1/jobs", json=SPEC, headers={"Idempotency-Key": "nightly-2026-11-30"})
    assert second.status_code == 200 and second.json()["id"] == job["id"]
    assert [j["id"] for j in idle_client.get("/v1/jobs").json()] == [job["id"]]
    other = idle_client.post("/v1/jobs", json={**SPEC, "name": "changed"},
                             headers={"Idempotency-Key": "nightly-2026-11-30"})
    assert other.status_code == 409 and other.json()["code"] == "job_conflict"
    assert idle_client.post("/v1/jobs", json=SPEC).json()["id"] != job["id"]  # no key: a new job


def test_errors_are_problem_json(idle_client: TestClient) -> None:
    bad = idle_client.post("/v1/jobs", json={"base": BASE})
    assert bad.status_code == 422 and bad.json()["code"] == "invalid_input"
    assert "sweep" in bad.json()["detail"]
    assert idle_client.post("/v1/jobs", json=[1]).status_code == 422
    missing = idle_client.get("/v1/jobs/job-nope")
    assert missing.status_code == 404 and missing.json()["code"] == "job_not_found"
    assert idle_client.get("/v1/jobs/job-nope/results").status_code == 404
    assert idle_client.delete("/v1/jobs/job-nope").status_code == 404
    assert idle_client.get("/v1/jobs/x/results?format=xml").status_code == 422


def test_cancel_over_http(idle_client: TestClient) -> None:
    job = idle_client.post("/v1/jobs", json=SPEC).json()
    cancelled = idle_client.delete(f"/v1/jobs/{job['id']}")
    assert cancelled.status_code == 200 and cancelled.json()["state"] == "cancelled"
    assert idle_client.get(f"/v1/jobs/{job['id']}").json()["state"] == "cancelled"


@pytest.mark.slow
def test_the_service_runs_a_submitted_job_and_streams_its_results(db_url: str, tmp_path: Path) -> None:
    with _client(db_url, tmp_path, run=True) as client:
        job = client.post("/v1/jobs", json=SPEC).json()
        deadline = time.monotonic() + 120
        while (st := client.get(f"/v1/jobs/{job['id']}").json())["state"] != "completed":
            assert time.monotonic() < deadline, st
            time.sleep(0.2)
        assert st["done"] == 6 and st["progress"] == 1.0 and st["eta_s"] is None
        lines = client.get(f"/v1/jobs/{job['id']}/results").text.splitlines()
        rows = [json.loads(x) for x in lines]
        assert len(rows) == 6
        assert {r["buyer.country"] for r in rows} == {"CN", "DE"}
        assert all(r["status"] == "done" and r["total_cost_low"] <= r["total_cost"] <= r["total_cost_high"]
                   for r in rows if r["plan_status"] == "optimal")
        csv_text = client.get(f"/v1/jobs/{job['id']}/results?format=csv")
        assert csv_text.headers["content-type"].startswith("text/csv")
        header, *body = csv_text.text.splitlines()
        assert header.startswith("scenario_id,budget.amount,buyer.country,status,plan_status,parts") and len(body) == 6
        summary = client.get(f"/v1/jobs/{job['id']}/summary").json()
        assert summary["scenarios"] == 6
        assert {e["value"] for e in summary["winners_by_axis"]["buyer.country"]} == {"CN", "DE"}
        assert {c["country"] for c in summary["cheapest_by_country_date"]} <= {"CN", "DE"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(env: dict[str, str]) -> subprocess.Popen[bytes]:
    exe = shutil.which("procure", path=str(Path(sys.executable).parent))
    assert exe
    return subprocess.Popen([exe, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)


def _get(http: httpx.Client, url: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            return http.get(url)
        except httpx.HTTPError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@pytest.mark.slow
def test_killing_the_service_mid_job_and_restarting_it_completes_the_job(db_url: str, store: JobStore,
                                                                        tmp_path: Path) -> None:
    port = _free_port()
    # 40 scenarios claimed two at a time: the kill comes right after 10 results, with most of the job still to run
    # (the restarted service computes the rest, waiting out the 2-s leases of the scenarios the killed workers held)
    env = {**os.environ, "PROCURE_DATABASE_URL": db_url, "PROCURE_PORT": str(port), "PROCURE_JOBS__LEASE_S": "2",
           "PROCURE_JOBS__WORKERS": "2", "PROCURE_JOBS__CLAIM_BATCH": "2", "PROCURE_JOBS__POLL_S": "0.1",
           "PROCURE_DATA_DIR": str(tmp_path / "data")}
    spec = {"base": {**BASE, "alternatives": 3},
            "sweep": {"budget.amount": {"from": 2e7, "to": 5e8, "steps": 10, "scale": "log"},
                      "buyer.country": ["CN", "DE", "AE", "SG"]}}
    base = f"http://127.0.0.1:{port}/v1/jobs"
    # one client for the test's ~100 polls (httpx.get builds a client, TLS context included, per call: ~50 ms CPU)
    http = httpx.Client(timeout=5)
    server = _serve(env)
    try:
        _get(http, f"http://127.0.0.1:{port}/healthz")
        job = http.post(base, json=spec, headers={"Idempotency-Key": "restart-test"}, timeout=30).json()
        deadline = time.monotonic() + 120
        while (st := http.get(f"{base}/{job['id']}").json())["done"] < 10:
            # pending until the service's runner picks it up (CI once polled in that gap), then running
            assert time.monotonic() < deadline and st["state"] in ("pending", "running"), st
            time.sleep(0.1)
        assert st["done"] < 40, "the job ended before the service could be killed"
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=10)
        before = {r["scenario_id"]: r for r in store.results(job["id"])}
        server = _serve(env)  # the restarted service resumes the unfinished job by itself
        _get(http, f"http://127.0.0.1:{port}/healthz")
        deadline = time.monotonic() + 300
        while (st := http.get(f"{base}/{job['id']}").json())["state"] != "completed":
            assert time.monotonic() < deadline, st
            time.sleep(0.3)
        again = http.post(base, json=spec, headers={"Idempotency-Key": "restart-test"}, timeout=30)
        assert again.status_code == 200 and again.json()["id"] == job["id"]
    finally:
        http.close()
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=30)
    rows = list(store.results(job["id"]))
    assert len(rows) == 40 == len({r["scenario_id"] for r in rows})
    after = {r["scenario_id"]: r for r in rows}
    assert all(after[s]["created_at"] == r["created_at"] for s, r in before.items())
    assert st["done"] + st["failed"] == 40
