"""Batch workers outlive a PostgreSQL outage (for real: the connection goes through a proxy that is stopped).

* Mid-job: the worker loop (coordinator and its worker processes) keeps its computed results while the database
  is away for 4 seconds (its retries back off to their 1-second cap), reports ``waiting_for_database``, and
  finishes the job when it is back: every scenario has exactly one result, and the process never exits.
* At start: ``procure batch worker`` started while the database is unreachable waits (its state says so), and
  runs a job submitted meanwhile as soon as the database answers; ``procure batch worker-health`` reports it alive.
"""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from service.jobs.daemon import health, read_state
from service.jobs.models import job_results
from service.jobs.store import JobStore
from service.storage import make_engine, upgrade
from tests.jobs.conftest import make_spec
from tests.jobs.tcp_proxy import TcpProxy
from tests.pg import fresh_schema, schema_url

pytestmark = [pytest.mark.slow, pytest.mark.integration]


@pytest.fixture
def schema() -> Iterator[str]:
    """A fresh, migrated schema in the test database; yields its name."""
    with fresh_schema("outage") as url:
        engine = make_engine(url)
        upgrade(engine)
        engine.dispose()
        yield url.rsplit("%3D", 1)[1]


def _url(schema: str, port: int | None = None) -> str:
    return schema_url(schema, port or 5432)


def _wait(pred: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not pred():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.1)


def _exactly_one_result_each(store: JobStore, job_id: str, total: int) -> list[str]:
    with store.engine.connect() as conn:
        rows = conn.execute(select(job_results.c.scenario_id, job_results.c.status, job_results.c.worker)
                            .where(job_results.c.job_id == job_id)).all()
    counts = Counter(r.scenario_id for r in rows)
    assert len(counts) == total and max(counts.values()) == 1
    assert all(r.status == "done" for r in rows)
    return [r.worker for r in rows]


def test_a_database_outage_mid_job_is_waited_out(schema: str, tmp_path: Path) -> None:
    direct = make_engine(_url(schema))
    store = JobStore(direct)
    job, _ = store.create(make_spec(n_budgets=10, countries=("CN", "DE", "AE")))  # 30 scenarios, ~0.2 s each
    proxy = TcpProxy(("127.0.0.1", 5432))
    proxy.start()
    state_file = tmp_path / "state.json"
    from tests.jobs.outage_worker import run_worker

    proc = mp.get_context("spawn").Process(target=run_worker, args=(_url(schema, proxy.port),
                                                                      str(tmp_path / "data"), str(state_file)))
    proc.start()
    seen: set[str] = set()
    try:
        _wait(lambda: store.status(job.id).finished >= 4, 120, "the first results")
        proxy.stop()  # PostgreSQL is unreachable for the worker: connections cut, new ones refused
        outage_end = time.monotonic() + 4
        while time.monotonic() < outage_end:
            state = read_state(state_file) or {}
            seen.add(str(state.get("state")))
            assert proc.is_alive(), "the worker must ride out the outage"
            time.sleep(0.2)
        finished_during = store.status(job.id).finished
        proxy.start()
        proc.join(timeout=180)
        assert proc.exitcode == 0, "the worker finished the job (--once) and exited cleanly"
    finally:
        if proc.is_alive():
            proc.kill()
        proxy.stop()
    assert "waiting_for_database" in seen, seen
    final = store.status(job.id)
    assert final.state == "completed" and final.counts == {"done": 30}
    assert finished_during < 30  # the outage really fell in the middle of the job
    workers = _exactly_one_result_each(store, job.id, 30)
    assert all("@" in w and "/pid:" in w for w in workers)  # <coordinator token>@<host>/pid:<pid>
    assert len(set(workers)) == 2  # the two worker processes retried through the outage: none died and was replaced
    direct.dispose()


def test_the_worker_command_waits_for_the_database_and_reports_it(schema: str, tmp_path: Path) -> None:
    proxy = TcpProxy(("127.0.0.1", 5432))  # not started: the database is "down" when the worker starts
    env = {**os.environ, "PROCURE_DATABASE_URL": _url(schema, proxy.port),
           "PROCURE_DATA_DIR": str(tmp_path / "data"), "PROCURE_JOBS__RETRY_MAX_S": "1",
           "PROCURE_JOBS__STATE_FILE": str(tmp_path / "state.json"), "PROCURE_JOBS__WORKERS": "1"}
    exe = shutil.which("procure", path=str(Path(sys.executable).parent))
    assert exe
    log = (tmp_path / "worker.log").open("w+b")
    proc = subprocess.Popen([exe, "batch", "worker", "--idle-s", "0.5"], env=env, stdout=log,
                            stderr=subprocess.STDOUT)

    def healthy() -> tuple[bool, dict[str, object]]:
        out = subprocess.run([exe, "batch", "worker-health", "--max-age", "10", "--json"], env=env,
                             capture_output=True, text=True, check=False)
        return out.returncode == 0, json.loads(out.stdout)

    try:
        _wait(lambda: (read_state(tmp_path / "state.json") or {}).get("state") == "waiting_for_database", 60,
              "the worker to report the outage")
        ok, report = healthy()
        assert ok and report["state"] == "waiting_for_database" and "error" in report  # alive, and says why
        direct = make_engine(_url(schema))
        store = JobStore(direct)
        job, _ = store.create(make_spec(n_budgets=2, countries=("CN",)))
        proxy.start()
        _wait(lambda: store.status(job.id).state == "completed", 120, "the job to run once the database is back")
        assert proc.poll() is None, "the worker keeps serving"
        _exactly_one_result_each(store, job.id, 2)
        _wait(lambda: healthy()[1].get("state") == "idle", 30, "an idle report")
        direct.dispose()
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        proxy.stop()
        log.close()
    ok, _ = health(tmp_path / "state.json", max_age_s=0.001)
    assert not ok  # a stale report (the worker is gone) is not healthy
