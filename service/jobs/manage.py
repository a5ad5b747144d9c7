"""Job operations shared by the CLI, the HTTP routes and the background runner (no printing, no HTTP)."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from service.jobs.executors import ProgressFn, make_executor, run_job, worker_config
from service.jobs.results import result_row
from service.jobs.spec import SweepSpec
from service.jobs.store import ANY_OWNER, JobStatus, JobStore
from service.jobs.summaries import summarize
from service.settings import Settings
from service.storage import make_engine, upgrade

_engines: dict[str, Engine] = {}
_lock = threading.Lock()


def open_store(settings: Settings) -> JobStore:
    """The job store on the service database (one engine per URL and process; migrations applied once)."""
    url = settings.resolved_database_url
    with _lock:
        engine = _engines.get(url)
        if engine is None:
            engine = make_engine(url)
            upgrade(engine)
            _engines[url] = engine
    return JobStore(engine)


def submit(store: JobStore, spec: SweepSpec, *, job_id: str | None = None, idempotency_key: str | None = None,
           owner: str | None = None, max_scenarios: int | None = None) -> tuple[JobStatus, bool]:
    """Create the job (or find the one with this id / key); returns ``(status, created)``.

    The scenarios stream into the store (see :meth:`JobStore.create`); under a work control (an HTTP request)
    a cancelled submission stores nothing.
    """
    return store.create(spec, job_id=job_id, idempotency_key=idempotency_key, owner=owner,
                        max_scenarios=max_scenarios)


def rows(store: JobStore, job_id: str, *, owner: Any = ANY_OWNER) -> Iterator[dict[str, Any]]:
    """Flat result rows in scenario order."""
    return (result_row(r) for r in store.results(job_id, owner=owner))


def summary(store: JobStore, job_id: str, *, owner: Any = ANY_OWNER) -> dict[str, Any]:
    """Winners by axis, break-even budgets, cheapest plan per country/date."""
    status = store.status(job_id, owner=owner)
    return {"job": status.as_dict(), **summarize(rows(store, job_id, owner=owner), status.axes)}


def execute(settings: Settings, store: JobStore, job_id: str, *, executor: str | None = None,
            workers: int | None = None, on_progress: ProgressFn | None = None, stop: threading.Event | None = None,
            resume_cancelled: bool = False, runner: str | None = None,
            extra_catalogs: list[Path] | None = None,
            on_outage: Callable[[BaseException], None] | None = None) -> JobStatus:
    """Run or resume a job with the chosen executor until it completes, is cancelled, or ``stop`` is set.

    Raises:
        ExecutorUnavailableError: Ray cannot be reached (or was lost); the job is left to resume later.
    """
    n = workers or settings.jobs.workers
    if extra_catalogs:
        settings = settings.model_copy(update={"catalog_files": [*settings.catalog_files, *extra_catalogs]})
    config = worker_config(settings, settings.resolved_database_url, job_id, runner=runner)
    ex = make_executor(executor, settings, workers=n)
    try:
        return run_job(store, job_id, ex, config, workers=n, on_progress=on_progress, stop=stop,
                       resume_cancelled=resume_cancelled, on_outage=on_outage)
    finally:
        ex.close()
