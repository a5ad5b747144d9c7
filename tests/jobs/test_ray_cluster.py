"""Batch jobs on a Ray cluster started by address (`ray start --head` on 127.0.0.1, free ports, stopped after).

* ``procure batch run --executor ray --json`` against the cluster gives the local pool's results, each naming the
  Ray node and worker process that computed it, and stdout carries the JSON alone even when a Ray worker is
  killed mid-job and Ray prints its "(raylet) A worker died…" lines.
* ``procure batch worker --executor ray`` started before the cluster is up waits for it (``waiting_for_ray``)
  and runs the job once the head answers.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select
from typer.testing import CliRunner, Result

from service.cli import app
from service.jobs.daemon import read_state
from service.jobs.models import job_scenarios
from service.jobs.store import JobStore
from service.settings import get_settings
from service.storage import make_engine, upgrade
from tests.jobs.conftest import make_spec
from tests.jobs.ray_cluster import RAY_ENV, RayHead, free_port

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray extra is not installed")]
ROOT = Path(__file__).resolve().parents[2]
PROCURE = str(Path(sys.executable).parent / "procure")


@pytest.fixture(scope="module")
def head() -> Iterator[RayHead]:
    cluster = RayHead().start()
    try:
        yield cluster
    finally:
        cluster.stop()


def _env(data_dir: Path, address: str) -> dict[str, str]:
    return {**os.environ, **RAY_ENV, "PROCURE_RAY_ADDRESS": address, "PROCURE_DATA_DIR": str(data_dir)}


def _procure(data_dir: Path, monkeypatch: pytest.MonkeyPatch, *args: str) -> Result:
    """``procure ARGS`` on the data folder, run in this process: no interpreter start, no imports paid again.

    For the commands that need no cluster (the local pool, reading results); a Ray driver runs as a process of its own.
    """
    monkeypatch.setenv("PROCURE_DATA_DIR", str(data_dir))
    get_settings.cache_clear()
    try:
        return CliRunner().invoke(app, list(args))
    finally:
        get_settings.cache_clear()


def _results(data_dir: Path, job_id: str, monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, object]]:
    out = _procure(data_dir, monkeypatch, "batch", "results", job_id)
    assert out.exit_code == 0, out.output
    return {row["scenario_id"]: row for row in map(json.loads, out.stdout.splitlines())}


def test_a_cluster_by_address_matches_the_local_pool_and_names_its_nodes(head: RayHead, tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    data = tmp_path / "data"
    spec = str(ROOT / "examples" / "sweep_small.yaml")
    done = subprocess.run([PROCURE, "batch", "run", spec, "--executor", "ray", "--json", "--job-id", "on-ray"],
                          env=_env(data, head.address), capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert json.loads(done.stdout)["state"] == "completed"  # stdout is the JSON and nothing else
    pool = _procure(data, monkeypatch, "batch", "run", spec, "--executor", "local", "--json", "--job-id", "on-pool")
    assert pool.exit_code == 0, pool.stderr[-2000:]
    assert json.loads(pool.stdout)["state"] == "completed"
    ray_rows, pool_rows = _results(data, "on-ray", monkeypatch), _results(data, "on-pool", monkeypatch)
    volatile = ("worker", "duration_ms", "attempts")
    assert {k: {f: v for f, v in r.items() if f not in volatile} for k, r in ray_rows.items()} == {
        k: {f: v for f, v in r.items() if f not in volatile} for k, r in pool_rows.items()}
    ray_workers = {str(r["worker"]) for r in ray_rows.values()}
    assert all(re.fullmatch(r"ray-[0-9a-f]{8}@[^/]+/127\.0\.0\.1/node:[0-9a-f]{8}/pid:\d+", w) for w in ray_workers)
    assert all("/node:" not in str(r["worker"]) for r in pool_rows.values())  # a local pool names host and pid


def test_stdout_stays_json_when_ray_reports_a_dead_worker(head: RayHead, tmp_path: Path) -> None:
    env = _env(tmp_path / "data", head.address)
    # examples/sweep.yaml over its last two quarters: 240 scenarios, several seconds of work on the cluster's 2 CPUs
    # after the kill, which lands on the first poll that sees a lease (right after the workers start); Ray prints the
    # dead worker at once. The whole file (1560 scenarios) is 6.5 times the work for the same states.
    spec = yaml.safe_load((ROOT / "examples" / "sweep.yaml").read_text(encoding="utf-8"))
    spec["sweep"]["buyer.date"] = {"from": "2026-03-01", "to": "2026-06-01", "every": "quarter"}
    spec_file = tmp_path / "sweep.yaml"
    spec_file.write_text(yaml.safe_dump(spec), encoding="utf-8")
    proc = subprocess.Popen([PROCURE, "batch", "run", str(spec_file), "--executor", "ray", "--json", "--job-id",
                             "kill"], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    killed = None
    deadline = time.monotonic() + 120
    db = tmp_path / "data" / "procure.db"
    while killed is None and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.3)
        if not db.exists():
            continue
        engine = make_engine(f"sqlite:///{db}")
        try:
            with engine.connect() as conn:
                owners = conn.execute(select(job_scenarios.c.lease_owner).where(
                    job_scenarios.c.status == "running")).scalars().all()
        except Exception:  # noqa: S112 - the tables appear a moment after the file
            continue
        finally:
            engine.dispose()
        for owner in owners:
            found = re.search(r"/node:[0-9a-f]+/pid:(\d+)$", owner or "")
            if found:  # a Ray worker process of this job: kill it the hard way
                os.kill(int(found.group(1)), signal.SIGKILL)
                killed = owner
                break
    out, err = proc.communicate(timeout=600)
    assert killed, "no Ray worker was found holding a lease"
    assert proc.returncode == 0, err[-2000:]
    final = json.loads(out)  # the whole of stdout is one JSON document
    assert final["state"] == "completed" and final["done"] == final["total"] == 240
    assert "(raylet)" in err  # Ray did print about the dead worker: on stderr, where it belongs


def test_the_worker_waits_for_a_cluster_that_is_not_up_yet(tmp_path: Path) -> None:
    port = free_port()
    data = tmp_path / "data"
    env = {**_env(data, f"127.0.0.1:{port}"), "PROCURE_JOBS__RETRY_MAX_S": "1", "PROCURE_JOBS__WORKERS": "2"}
    engine = make_engine(f"sqlite:///{data / 'procure.db'}")
    upgrade(engine)
    store = JobStore(engine)
    job, _ = store.create(make_spec(n_budgets=3, countries=("CN", "DE")))
    log = (tmp_path / "worker.log").open("w+b")
    worker = subprocess.Popen([PROCURE, "batch", "worker", "--executor", "ray", "--idle-s", "0.5"], env=env,
                              stdout=log, stderr=subprocess.STDOUT)
    cluster = RayHead(port=port)
    state_file = data / f"worker-state-{socket.gethostname()}.json"  # the default report of this host's worker
    try:
        deadline = time.monotonic() + 60
        while (read_state(state_file) or {}).get("state") != "waiting_for_ray":
            assert time.monotonic() < deadline and worker.poll() is None, log.name
            time.sleep(0.2)
        assert store.status(job.id).state == "pending"
        cluster.start()
        deadline = time.monotonic() + 240
        while store.status(job.id).state != "completed":
            assert time.monotonic() < deadline and worker.poll() is None, log.name
            time.sleep(0.2)
        assert store.status(job.id).counts == {"done": 6}
        assert all("/node:" in r["worker"] for r in store.results(job.id))
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=30)
        except subprocess.TimeoutExpired:
            worker.kill()
        cluster.stop()
        log.close()
        engine.dispose()
        shutil.rmtree(data / "ray", ignore_errors=True)
