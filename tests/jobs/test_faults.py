"""Fault tests on SQLite and PostgreSQL: killed workers, a killed service, cancel, raising scenarios."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from service.jobs.executors import LocalExecutor, run_job
from service.jobs.models import job_results, job_scenarios
from service.jobs.store import JobStatus, JobStore
from service.jobs.worker import WorkerConfig
from tests.jobs.conftest import BASE, make_spec
from tests.jobs.runners import POISON_BUDGET

pytestmark = pytest.mark.slow


def _config(db_url: str, job_id: str, **kw: Any) -> WorkerConfig:
    return replace(WorkerConfig(db_url=db_url, job_id=job_id, lease_s=30, batch=3, poll_s=0.1), **kw)


def _one_result_each(store: JobStore, job_id: str) -> list[dict[str, Any]]:
    with store.engine.connect() as conn:
        ids = [r.scenario_id for r in conn.execute(select(job_results.c.scenario_id)
                                                    .where(job_results.c.job_id == job_id))]
        scenarios = conn.execute(select(job_scenarios.c.scenario_id).where(job_scenarios.c.job_id == job_id)).all()
    counts = Counter(ids)
    assert set(counts) == {s.scenario_id for s in scenarios}, "every scenario has a result"
    assert max(counts.values()) == 1, "and exactly one"
    return list(store.results(job_id))


def _wait(pred: Any, timeout: float = 90.0, what: str = "condition") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def test_kill_9_of_a_worker_mid_job_reruns_its_scenarios(db_url: str, store: JobStore) -> None:
    job, _ = store.create(make_spec(n_budgets=6, countries=("CN", "DE", "AE")))
    ex = LocalExecutor()
    final: list[JobStatus] = []
    coord = threading.Thread(target=lambda: final.append(run_job(
        store, job.id, ex, _config(db_url, job.id, runner="tests.jobs.runners:slow"), workers=2, poll_s=0.1)))
    coord.start()
    try:
        # wait until some results exist and the victim holds leased, unfinished scenarios
        victim: dict[str, Any] = {}

        def victim_busy() -> bool:
            if store.status(job.id).finished < 2:
                return False
            with store.engine.connect() as conn:
                for owner, pid in ex.pids().items():
                    held = conn.execute(select(job_scenarios.c.scenario_id).where(
                        job_scenarios.c.lease_owner.startswith(owner + "@"),  # <coordinator token>@<where it runs>
                        job_scenarios.c.status == "running")).scalars().all()
                    if held and pid:
                        victim.update(owner=owner, pid=pid, held=set(held))
                        return True
            return False

        _wait(victim_busy, what="a busy worker")
        os.kill(victim["pid"], signal.SIGKILL)
        coord.join(timeout=180)
        assert not coord.is_alive()
    finally:
        ex.stop()
    assert final[0].state == "completed" and final[0].counts == {"done": 18}
    rows = {r["scenario_id"]: r for r in _one_result_each(store, job.id)}
    for sid in victim["held"]:
        if not rows[sid]["worker"].startswith(victim["owner"] + "@"):  # (it may have finished one before dying)
            assert rows[sid]["attempts"] >= 2, "the killed worker's scenario ran again"


def test_a_raising_scenario_is_failed_and_the_job_goes_on(db_url: str, store: JobStore) -> None:
    spec = make_spec(n_budgets=1, countries=("CN", "DE"), scenarios=[{}, {"budget.amount": POISON_BUDGET}])
    job, _ = store.create(spec)
    final = run_job(store, job.id, LocalExecutor(), _config(db_url, job.id, runner="tests.jobs.runners:raising"),
                    workers=1, poll_s=0.1)
    assert final.state == "completed"
    rows = _one_result_each(store, job.id)
    failed = [r for r in rows if r["status"] == "failed"]
    assert len(rows) == 4 and len(failed) == 2
    assert all(r["error"] == "RuntimeError: poisoned scenario" for r in failed)
    assert all(r["result"]["plan_status"] == "optimal" for r in rows if r["status"] == "done")


def test_an_invalid_scenario_fails_with_its_validation_message(db_url: str, store: JobStore) -> None:
    # min_cost without a deadline is not a valid request; the min_time corner still runs
    job, _ = store.create(make_spec(n_budgets=1, countries=("CN",), scenarios=[{"objective": "min_cost"}, {}]))
    final = run_job(store, job.id, LocalExecutor(), _config(db_url, job.id), workers=1, poll_s=0.1)
    assert final.counts == {"done": 1, "failed": 1}
    failed = next(r for r in store.results(job.id) if r["status"] == "failed")
    assert "needs a deadline" in failed["error"]


def test_cancel_stops_work_promptly(db_url: str, store: JobStore) -> None:
    job, _ = store.create(make_spec(n_budgets=10, countries=("CN", "DE", "AE")))
    ex = LocalExecutor()
    final: list[JobStatus] = []
    coord = threading.Thread(target=lambda: final.append(run_job(
        store, job.id, ex, _config(db_url, job.id, runner="tests.jobs.runners:slow"), workers=2, poll_s=0.1)))
    coord.start()
    _wait(lambda: store.status(job.id).finished >= 2, what="first results")
    t0 = time.monotonic()
    store.cancel(job.id)
    coord.join(timeout=30)
    stopped_after = time.monotonic() - t0
    assert not coord.is_alive()
    assert stopped_after < 5, f"cancel took {stopped_after:.1f}s"
    assert final[0].state == "cancelled" and ex.running() == 0
    finished = store.status(job.id).finished
    assert finished < 30
    time.sleep(0.5)
    assert store.status(job.id).finished == finished, "nothing runs after a cancel"
    _one_result_each_finished = Counter(r["scenario_id"] for r in store.results(job.id))
    assert max(_one_result_each_finished.values()) == 1


def _procure() -> str:
    exe = shutil.which("procure", path=str(Path(sys.executable).parent))
    assert exe
    return exe


def test_killing_the_whole_run_and_rerunning_with_the_job_id_completes_it(db_url: str, store: JobStore,
                                                                         tmp_path: Path) -> None:
    # 40 scenarios claimed two at a time: the kill comes right after 10 results, with most of the job still to run
    # (the rerun computes the rest, waiting out the 2-s leases of the scenarios the killed workers held)
    spec_file = tmp_path / "spec.yaml"
    spec_file.write_text(yaml.safe_dump({"base": {**BASE, "alternatives": 3}, "sweep": {
        "budget.amount": {"from": 2e7, "to": 5e8, "steps": 10, "scale": "log"},
        "buyer.country": ["CN", "DE", "AE", "SG"]}}), encoding="utf-8")
    env = {**os.environ, "PROCURE_DATABASE_URL": db_url, "PROCURE_JOBS__LEASE_S": "2",
           "PROCURE_JOBS__CLAIM_BATCH": "2", "PROCURE_JOBS__POLL_S": "0.1", "PROCURE_DATA_DIR": str(tmp_path / "data")}
    cmd = [_procure(), "batch", "run", str(spec_file), "--job-id", "nightly", "--workers", "2", "--json"]
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        _wait(lambda: _finished(store, "nightly") >= 10 or proc.poll() is not None, what="first results")
        assert proc.poll() is None, "the run ended before it could be killed"
        os.killpg(proc.pid, signal.SIGKILL)  # the coordinator and its workers, with leases held
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    before = {r["scenario_id"]: r for r in store.results("nightly")}
    assert 10 <= len(before) < 40
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert rerun.returncode == 0, rerun.stderr
    assert "resuming job nightly" in rerun.stderr
    after = {r["scenario_id"]: r for r in _one_result_each(store, "nightly")}
    assert len(after) == 40
    for sid, row in before.items():  # nothing finished was recomputed
        assert after[sid]["created_at"] == row["created_at"] and after[sid]["worker"] == row["worker"]
    assert store.status("nightly").state == "completed"


def _finished(store: JobStore, job_id: str) -> int:
    try:
        return store.status(job_id).finished
    except Exception:
        return 0
