"""Batch jobs over HTTP: submit a sweep (idempotent by key), follow it, stream its results, cancel it.

A job belongs to the API key that submitted it: other keys get 404 (and an audit event), the ``admin`` scope
sees every job (:mod:`service.api.ownership`). A sweep larger than ``jobs.max_scenarios`` is refused (422) from
its axes before anything is expanded; the expansion streams into the store and stops with the request.

The router brings its own lifespan: it opens the job store and, unless ``PROCURE_JOBS__RUN_IN_API=false``
(a separate worker service runs the jobs), a background runner that also resumes unfinished jobs at start-up.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Body, FastAPI, Header, HTTPException, Query, Request, Response
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import StreamingResponse

from service.api.ownership import acting_owner, guard_job
from service.api.security import principal
from service.jobs.background import JobRunner
from service.jobs.manage import open_store, rows, submit, summary
from service.jobs.results import columns, csv_chunks, jsonl_chunks
from service.jobs.spec import parse_spec
from service.jobs.store import JobStore

log = logging.getLogger("procure.api")


@asynccontextmanager
async def _lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = app.state.settings
    app.state.job_store = None
    app.state.job_runner = None
    try:
        app.state.job_store = await run_in_threadpool(open_store, settings)
    except Exception:  # the job routes answer 503 instead of the whole service failing to start
        log.exception("the job store is unavailable")
    runner = None
    if app.state.job_store is not None and settings.jobs.run_in_api:
        runner = JobRunner(settings, app.state.job_store)
        runner.start()
        app.state.job_runner = runner
    yield
    if runner is not None:
        await run_in_threadpool(runner.shutdown)


router = APIRouter(prefix="/v1/jobs", tags=["jobs"], lifespan=_lifespan)

EXAMPLE_SPEC = {
    "name": "budgets x countries",
    "base": {"workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
             "buyer": {"country": "CN", "date": "2025-08-01"}, "budget": {"amount": "5000万"},
             "objective": "min_time", "alternatives": 0},
    "sweep": {"budget.amount": {"from": 2e7, "to": 5e8, "steps": 5, "scale": "log"}, "buyer.country": ["CN", "DE"]},
}


def _store(request: Request) -> JobStore:
    store: JobStore | None = request.app.state.job_store
    if store is None:
        raise HTTPException(503, "the job store is unavailable")
    return store


def _wake(request: Request) -> None:
    runner: JobRunner | None = request.app.state.job_runner
    if runner is not None:
        runner.wake()


@router.post("", status_code=201, responses={200: {"description": "The job already submitted with this key."}})
def create_job(
    request: Request,
    response: Response,
    spec: Annotated[dict[str, Any], Body(examples=[EXAMPLE_SPEC], description="A sweep spec (as a YAML spec file).")],
    idempotency_key: Annotated[str | None, Header(max_length=200, min_length=1)] = None,
) -> dict[str, Any]:
    """Submit a sweep; it runs in the background. The same ``Idempotency-Key`` (of the same key) returns the same job.

    Sweeps beyond ``PROCURE_JOBS__MAX_SCENARIOS`` scenarios are refused with 422 ``limit_exceeded``.
    """
    cap = request.app.state.settings.jobs.max_scenarios
    parsed = parse_spec(spec, source="spec", max_scenarios=cap)
    status, created = submit(_store(request), parsed, idempotency_key=idempotency_key,
                             owner=principal(request).key_id, max_scenarios=cap)
    if created:
        _wake(request)
    else:
        response.status_code = 200
    response.headers["Location"] = f"/v1/jobs/{status.id}"
    return status.as_dict()


@router.get("")
def list_jobs(request: Request, limit: Annotated[int, Query(ge=1, le=1000)] = 50) -> list[dict[str, Any]]:
    """Recent jobs of this key (every job for the admin scope), newest first."""
    return [j.as_dict() for j in _store(request).recent(limit=limit, owner=acting_owner(request))]


@router.get("/{job_id}")
def get_job(request: Request, job_id: str) -> dict[str, Any]:
    """State, counts, progress (0–1), recent rate and ETA."""
    store = _store(request)
    return store.status(job_id, owner=guard_job(request, store, job_id)).as_dict()


@router.get("/{job_id}/results", response_class=StreamingResponse,
            responses={200: {"content": {"application/x-ndjson": {}, "text/csv": {}}}})
def get_results(request: Request, job_id: str,
                format: Annotated[Literal["jsonl", "csv"], Query(description="jsonl or csv")] = "jsonl",
                ) -> StreamingResponse:
    """Result rows, streamed in scenario order (finished scenarios so far while the job runs)."""
    store = _store(request)
    owner = guard_job(request, store, job_id)
    status = store.status(job_id, owner=owner)
    if format == "csv":
        return StreamingResponse(csv_chunks(rows(store, job_id, owner=owner), columns(status.axes)),
                                 media_type="text/csv",
                                 headers={"Content-Disposition": f'attachment; filename="{job_id}.csv"'})
    return StreamingResponse(jsonl_chunks(rows(store, job_id, owner=owner)), media_type="application/x-ndjson")


@router.get("/{job_id}/summary")
def get_summary(request: Request, job_id: str) -> dict[str, Any]:
    """Which part wins where (by axis), break-even budgets, the cheapest feasible plan per country and date."""
    store = _store(request)
    return summary(store, job_id, owner=guard_job(request, store, job_id))


@router.delete("/{job_id}")
def cancel_job(request: Request, job_id: str) -> dict[str, Any]:
    """Cancel: no scenario starts after this; results already recorded are kept."""
    store = _store(request)
    status = store.cancel(job_id, owner=guard_job(request, store, job_id))
    _wake(request)
    return status.as_dict()
