"""The store: jobs belong to owners, idempotency keys are scoped by them, scenarios stream in and a cancelled
submission stores nothing; workers are named by where they run and released by their coordinator's token;
the worker's state report; stdout kept for JSON whatever is printed below Python."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from optimizer.cancel import WorkCancelledError, WorkControl, controlled
from service.jobs.daemon import WorkerState, health, read_state
from service.jobs.models import job_scenarios, jobs
from service.jobs.retry import Backoff, retrying
from service.jobs.spec import parse_spec
from service.jobs.store import ANY_OWNER, JobConflictError, JobNotFoundError, JobStore
from service.jobs.worker import owner_name, where_am_i
from tests.jobs.conftest import BASE, make_spec


def test_jobs_are_seen_by_their_owner_and_by_any_owner(store: JobStore) -> None:
    mine, _ = store.create(make_spec(n_budgets=2), owner="aaaaaaaaaaaa")
    theirs, _ = store.create(make_spec(n_budgets=3), owner="bbbbbbbbbbbb")
    anonymous, _ = store.create(make_spec(n_budgets=1))
    assert [j.id for j in store.recent(owner="aaaaaaaaaaaa")] == [mine.id]
    assert [j.id for j in store.recent(owner=None)] == [anonymous.id]
    assert {j.id for j in store.recent(owner=ANY_OWNER)} == {mine.id, theirs.id, anonymous.id}
    with pytest.raises(JobNotFoundError):
        store.status(theirs.id, owner="aaaaaaaaaaaa")
    with pytest.raises(JobNotFoundError):
        list(store.results(theirs.id, owner="aaaaaaaaaaaa"))
    with pytest.raises(JobNotFoundError):
        store.cancel(theirs.id, owner="aaaaaaaaaaaa")
    assert store.status(theirs.id).state == "pending"  # the refused cancel changed nothing
    assert store.owner_of(mine.id) == "aaaaaaaaaaaa" and store.owner_of(anonymous.id) is None
    assert store.status(mine.id).as_dict()["owner"] == "aaaaaaaaaaaa"


def test_idempotency_keys_are_scoped_by_owner(store: JobStore) -> None:
    spec = make_spec(n_budgets=2)
    a, created_a = store.create(spec, idempotency_key="k", owner="aaaaaaaaaaaa")
    b, created_b = store.create(spec, idempotency_key="k", owner="bbbbbbbbbbbb")
    again, created_again = store.create(spec, idempotency_key="k", owner="aaaaaaaaaaaa")
    assert created_a and created_b and not created_again
    assert a.id != b.id and again.id == a.id
    assert again.idempotency_key == "k"  # shown as the client sent it
    with pytest.raises(JobConflictError, match="another key"):
        store.create(spec, job_id=a.id, owner="bbbbbbbbbbbb")


def test_scenarios_stream_in_and_a_cancelled_submission_stores_nothing(store: JobStore) -> None:
    spec = parse_spec({"base": BASE, "sweep": {"budget.amount": {"from": 2e7, "to": 5e8, "steps": 300},
                                               "buyer.country": ["CN", "DE", "AE", "SG", "US"]}})
    control = WorkControl()
    control.cancel("deadline")  # the client was already told it failed
    with controlled(control), pytest.raises(WorkCancelledError):
        store.create(spec, owner="aaaaaaaaaaaa")
    with store.engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(jobs)).scalar_one() == 0
        assert conn.execute(select(func.count()).select_from(job_scenarios)).scalar_one() == 0
    job, _ = store.create(spec, owner="aaaaaaaaaaaa")  # more than one insert chunk, committed whole
    assert job.total == 1500
    with store.engine.connect() as conn:
        seqs = conn.execute(select(job_scenarios.c.seq).where(job_scenarios.c.job_id == job.id)
                            .order_by(job_scenarios.c.seq)).scalars().all()
    assert seqs == list(range(1500))


def test_a_worker_is_named_by_where_it_runs_and_released_by_its_token(store: JobStore) -> None:
    job, _ = store.create(make_spec(n_budgets=4))
    store.start(job.id, "local")
    name = owner_name("local-1a2b3c4d")
    assert name.startswith("local-1a2b3c4d@") and name.endswith(f"/pid:{os.getpid()}")
    assert where_am_i().split("/")[0] == os.uname().nodename
    claimed = store.claim(job.id, name, limit=3, lease_s=60)
    other = store.claim(job.id, owner_name("local-99999999"), limit=3, lease_s=60)
    assert len(claimed) == 3 and len(other) == 3
    assert store.release("local-1a2b3c4d") == 3  # the coordinator knows only the token it gave
    assert store.release("local-1a2b3c4") == 0  # a token is not a prefix of another's


def test_retrying_rides_out_transient_errors_only() -> None:
    from sqlalchemy.exc import OperationalError

    calls = {"n": 0}

    def flaky() -> str:
        calls["n"] += 1
        if calls["n"] < 3:
            raise OperationalError("SELECT 1", {}, Exception("server closed the connection unexpectedly"))
        return "ok"

    backoff = Backoff(max_s=0.05, first_s=0.01)
    assert retrying(flaky, what="probe", backoff=backoff) == "ok" and calls["n"] == 3
    assert backoff.failures == 0  # reset after the success
    with pytest.raises(ValueError):
        retrying(lambda: (_ for _ in ()).throw(ValueError("a bug is not an outage")), what="probe", backoff=backoff)
    long = Backoff(max_s=4, first_s=0.5)
    waits = [long.next_wait() for _ in range(8)]
    assert waits[0] <= 0.5 and max(waits) <= 4 and waits[-1] >= 3.2  # doubling, capped, with jitter


def test_the_worker_state_report_proves_the_loop_is_alive(tmp_path: Path) -> None:
    path = tmp_path / "state.json"
    ok, report = health(path, max_age_s=60)
    assert not ok and "no state report" in str(report["error"])
    state = WorkerState(path)
    state.report("waiting_for_database", error="OperationalError: connection refused")
    ok, report = health(path, max_age_s=60)
    assert ok and report["state"] == "waiting_for_database" and report["pid"] == os.getpid()
    time.sleep(0.05)
    assert not health(path, max_age_s=0.01)[0]  # stale: the loop stopped turning
    state.report("failed", error="boom")
    assert not health(path, max_age_s=60)[0]
    assert read_state(path)["error"] == "boom"  # type: ignore[index]


def test_stdout_carries_only_the_json_whatever_prints_below_python(tmp_path: Path) -> None:
    script = (
        "import os, subprocess, sys\n"
        "from service.cli._stdout import stdout_to_stderr\n"
        "with stdout_to_stderr():\n"
        "    print('python print')\n"
        "    os.write(1, b'(raylet) A worker died or was killed\\n')\n"
        "    subprocess.run(['echo', 'a child process'])\n"
        "print('{\"json\": true}')\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                          cwd=Path(__file__).resolve().parents[2])
    assert done.stdout == '{"json": true}\n'
    assert "python print" in done.stderr and "(raylet)" in done.stderr and "a child process" in done.stderr
