"""The store on SQLite and PostgreSQL: idempotent creation, exclusive claims, lease expiry, once-only results."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select

from service.jobs.models import job_results
from service.jobs.spec import Scenario, iter_scenarios
from service.jobs.store import JobConflictError, JobNotFoundError, JobStore, Outcome
from service.storage import make_engine, upgrade
from service.usecases import WorkCancelledError
from tests.jobs.conftest import make_spec


def _ok(c: object, value: float = 1.0) -> Outcome:
    return Outcome(c.scenario_id, c.seq, True, {"v": value}, None, 1.0, c.attempts)  # type: ignore[attr-defined]


def test_create_is_idempotent_by_id_and_by_key(store: JobStore) -> None:
    spec = make_spec()
    first, created = store.create(spec, job_id="j1", idempotency_key="k1")
    assert created and first.total == 8 and first.state == "pending"
    again, created = store.create(spec, job_id="j1")
    assert not created and again.id == "j1"
    by_key, created = store.create(spec, idempotency_key="k1")
    assert not created and by_key.id == "j1"
    with pytest.raises(JobConflictError, match="different spec"):
        store.create(make_spec(n_budgets=3), idempotency_key="k1")
    with pytest.raises(JobConflictError):
        store.create(make_spec(n_budgets=3), job_id="j1")
    assert [j.id for j in store.recent()] == ["j1"]


def test_unknown_job(store: JobStore) -> None:
    with pytest.raises(JobNotFoundError):
        store.status("nope")
    with pytest.raises(JobNotFoundError):
        store.cancel("nope")


def test_claims_are_exclusive_under_concurrency(store: JobStore) -> None:
    job, _ = store.create(make_spec(n_budgets=10, countries=("CN", "DE", "AE", "SG")))
    store.start(job.id, "test")
    got: list[str] = []
    lock = threading.Lock()

    def claimer(name: str) -> None:
        while True:
            batch = store.claim(job.id, name, limit=3, lease_s=60)
            if not batch:
                return
            with lock:
                got.extend(c.scenario_id for c in batch)

    threads = [threading.Thread(target=claimer, args=(f"w{i}",)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(got) == 40 and len(set(got)) == 40


def test_an_expired_lease_is_reclaimed_and_the_result_is_written_once(store: JobStore) -> None:
    job, _ = store.create(make_spec(n_budgets=1, countries=("CN",)))
    store.start(job.id, "test")
    [dead] = store.claim(job.id, "dead-worker", limit=5, lease_s=0.2)
    assert store.claim(job.id, "other", limit=5, lease_s=60) == []  # the lease still holds
    time.sleep(0.3)
    [again] = store.claim(job.id, "other", limit=5, lease_s=60)
    assert again.scenario_id == dead.scenario_id and again.attempts == 2
    assert store.complete(job.id, "other", [_ok(again, 2.0)]) == 1
    # the "dead" worker was only slow: its late result is dropped, the first one stays
    assert store.complete(job.id, "dead-worker", [_ok(dead, 1.0)]) == 0
    [row] = list(store.results(job.id))
    assert row["result"] == {"v": 2.0} and row["worker"] == "other"
    assert store.finish_if_done(job.id)
    assert store.status(job.id).state == "completed"


def test_heartbeat_renewal_keeps_a_lease(store: JobStore) -> None:
    job, _ = store.create(make_spec(n_budgets=1, countries=("CN",)))
    store.start(job.id, "test")
    store.claim(job.id, "alive", limit=1, lease_s=0.3)
    for _ in range(3):
        time.sleep(0.15)
        assert store.renew("alive", 0.3) == 1
    assert store.claim(job.id, "other", limit=1, lease_s=60) == []


def test_release_makes_scenarios_claimable_at_once(store: JobStore) -> None:
    job, _ = store.create(make_spec(n_budgets=2, countries=("CN",)))
    store.start(job.id, "test")
    assert len(store.claim(job.id, "w1", limit=5, lease_s=600)) == 2
    assert store.release("w1") == 2
    assert len(store.claim(job.id, "w2", limit=5, lease_s=600)) == 2


def test_cancel_stops_claims_and_a_resume_brings_the_scenarios_back(store: JobStore) -> None:
    job, _ = store.create(make_spec(n_budgets=3, countries=("CN",)))
    store.start(job.id, "test")
    [first] = store.claim(job.id, "w", limit=1, lease_s=60)
    store.complete(job.id, "w", [_ok(first)])
    st = store.cancel(job.id)
    assert st.state == "cancelled" and st.as_dict()["pending"] == 2
    assert store.claim(job.id, "w", limit=5, lease_s=60) == []
    assert store.start(job.id, "test").state == "cancelled"  # a plain start does not revive it
    st = store.start(job.id, "test", resume_cancelled=True)
    assert st.state == "running" and st.counts == {"done": 1, "pending": 2}
    assert len(store.claim(job.id, "w", limit=5, lease_s=60)) == 2


def test_a_scenario_that_kills_its_workers_fails_after_max_attempts(store: JobStore) -> None:
    job, _ = store.create(make_spec(n_budgets=1, countries=("CN",)))
    store.start(job.id, "test")
    for _ in range(2):
        assert store.claim(job.id, "w", limit=1, lease_s=0.01, max_attempts=2)
        time.sleep(0.03)
    assert store.claim(job.id, "w", limit=1, lease_s=0.01, max_attempts=2) == []
    assert store.fail_exhausted(job.id, max_attempts=2) == 1
    [row] = list(store.results(job.id))
    assert row["status"] == "failed" and "died 2 times" in row["error"]
    assert store.finish_if_done(job.id)


def test_concurrent_duplicate_completions_leave_one_result(store: JobStore) -> None:
    job, _ = store.create(make_spec(n_budgets=5, countries=("CN", "DE")))
    store.start(job.id, "test")
    claimed = store.claim(job.id, "w", limit=10, lease_s=60)
    outcomes = [_ok(c) for c in claimed]
    threads = [threading.Thread(target=store.complete, args=(job.id, f"w{i}", outcomes)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    with store.engine.connect() as conn:
        n = conn.execute(select(func.count()).select_from(job_results)).scalar_one()
    assert n == 10
    assert Counter(r["scenario_id"] for r in store.results(job.id)).most_common(1)[0][1] == 1


def test_concurrent_submissions_with_one_key_make_one_job(store: JobStore) -> None:
    spec = make_spec(n_budgets=20, countries=("CN", "DE", "AE"))
    ids: list[str] = []
    errors: list[BaseException] = []

    def submit() -> None:
        try:
            ids.append(store.create(spec, idempotency_key="same-key")[0].id)
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=submit) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors and len(ids) == 4 and len(set(ids)) == 1
    assert len(store.recent()) == 1 and store.status(ids[0]).total == 60


def test_a_claim_whose_reply_was_lost_is_given_back_to_its_worker(store: JobStore) -> None:
    """An outage can cut the connection after the claim committed: the worker saw an error and claims again. It
    gets the scenarios leased to itself back (not counted as another attempt); another worker does not, until the
    lease expires. Before, the worker's heartbeat renewed those leases forever and the job never finished."""
    job, _ = store.create(make_spec(n_budgets=3, countries=("CN",)))
    store.start(job.id, "test")
    lost = store.claim(job.id, "w1@host", limit=2, lease_s=60)  # committed; the reply never reached the worker
    taken = store.claim(job.id, "w2@host", limit=5, lease_s=60)  # the other worker gets only the free scenario
    assert len(lost) == 2 and len(taken) == 1 and taken[0].scenario_id not in {c.scenario_id for c in lost}
    assert store.claim(job.id, "w1@host", limit=5, lease_s=60) == []  # without own=True: nothing is free
    again = store.claim(job.id, "w1@host", limit=5, lease_s=60, own=True)  # the worker holds nothing now
    assert [c.scenario_id for c in again] == [c.scenario_id for c in lost]
    assert all(c.attempts == 1 for c in again)  # never started, so not another attempt
    assert store.complete(job.id, "w1@host", [_ok(c) for c in again]) == 2
    assert store.complete(job.id, "w2@host", [_ok(c) for c in taken]) == 1
    assert store.finish_if_done(job.id) and store.status(job.id).state == "completed"


def test_a_worker_at_its_last_attempt_still_gets_its_lost_claim_back(store: JobStore) -> None:
    job, _ = store.create(make_spec(n_budgets=1, countries=("CN",)))
    store.start(job.id, "test")
    [first] = store.claim(job.id, "w1", limit=1, lease_s=60, max_attempts=1)
    assert first.attempts == 1
    assert store.claim(job.id, "w2", limit=1, lease_s=60, max_attempts=1) == []  # leased, and out of attempts
    [again] = store.claim(job.id, "w1", limit=1, lease_s=60, max_attempts=1, own=True)
    assert again.scenario_id == first.scenario_id and again.attempts == 1


def test_a_rolled_back_submission_gives_its_log_space_back(tmp_path: Path) -> None:
    """F1 on a fast machine: a sweep cut off mid-expansion had spilled ~20 MB into SQLite's write-ahead log before
    its rollback, and the file kept that size. The job is gone and so is the space (9,000 rows spill ~2.6 MB)."""
    engine = make_engine(f"sqlite:///{tmp_path / 'jobs.db'}")
    upgrade(engine)
    store = JobStore(engine)
    spec = make_spec(n_budgets=10_000, countries=("CN",))

    def cut_off(after: int) -> Iterator[Scenario]:
        for sc in iter_scenarios(spec):
            if sc.seq >= after:
                raise WorkCancelledError("the client went away")
            yield sc

    with pytest.raises(WorkCancelledError):
        store.create(spec, scenarios=cut_off(9_000))
    assert store.recent() == []
    wal = tmp_path / "jobs.db-wal"
    assert not wal.exists() or wal.stat().st_size < 1_000_000, wal.stat().st_size
    job, created = store.create(make_spec(n_budgets=3, countries=("CN",)))  # the store still works
    assert created and store.status(job.id).total == 3
    engine.dispose()
