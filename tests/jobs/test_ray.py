"""The Ray executor (a local Ray on 127.0.0.1, auth off, no dashboard) gives the local pool's results."""

from __future__ import annotations

import importlib.util
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from service.jobs.executors import LocalExecutor, RayExecutor, run_job
from service.jobs.store import JobStore
from service.jobs.worker import WorkerConfig
from service.storage import make_engine, upgrade
from tests.jobs.conftest import make_spec
from tests.jobs.ray_cluster import RAY_ENV

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="the ray extra is not installed")]


@pytest.fixture
def ray_executor(monkeypatch: pytest.MonkeyPatch) -> Iterator[RayExecutor]:
    for key, value in RAY_ENV.items():  # auth and usage stats off, loopback only, no metrics collection
        monkeypatch.setenv(key, value)
    tmp = Path(tempfile.mkdtemp(prefix="ray-", dir="/tmp"))  # short: Ray's socket paths have a length limit
    ex = RayExecutor(None, num_cpus=2, temp_dir=tmp)
    try:
        yield ex
    finally:
        ex.close()
        shutil.rmtree(tmp, ignore_errors=True)


def _results(store: JobStore, job_id: str) -> dict[str, object]:
    return {r["scenario_id"]: (r["status"], r["result"], r["error"]) for r in store.results(job_id)}


def test_local_and_ray_give_identical_results(ray_executor: RayExecutor, tmp_path: Path) -> None:
    import ray

    assert ray.is_initialized()
    assert all(n["NodeManagerAddress"] == "127.0.0.1" for n in ray.nodes())
    spec = make_spec(n_budgets=4, countries=("CN", "DE", "AE"),
                     scenarios=[{}, {"whatif.remove_skus": ["h20"]}, {"objective": "min_cost"}])
    stores = {}
    for name in ("local", "ray"):
        url = f"sqlite:///{tmp_path / name}.db"
        engine = make_engine(url)
        upgrade(engine)
        store = JobStore(engine)
        job, _ = store.create(spec, job_id="same")
        ex = ray_executor if name == "ray" else LocalExecutor()
        final = run_job(store, job.id, ex, WorkerConfig(db_url=url, job_id=job.id, poll_s=0.1), workers=2,
                        poll_s=0.1)
        assert final.state == "completed" and final.total == 36
        stores[name] = store
    local, remote = _results(stores["local"], "same"), _results(stores["ray"], "same")
    assert local == remote
    assert sum(1 for s, _, _ in local.values() if s == "failed") == 12  # min_cost without a deadline
    assert {r["worker"].split("-")[0] for r in stores["ray"].results("same")} == {"ray"}
