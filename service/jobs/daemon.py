"""``procure batch worker``: run submitted jobs as they arrive, outliving database and Ray outages.

The loop looks for unfinished jobs every ``idle_s`` and runs them one after another. A transient error (the
database or the Ray cluster away) is waited out with capped exponential backoff (``jobs.retry_max_s``) instead of
ending the process; anything else ends it (and the deployment's restart policy starts a new one, which resumes).

The worker reports its state in a small JSON file (``jobs.state_file``, default
``<data_dir>/worker-state-<host>.json``): ``idle``, ``running`` (with the job and its progress),
``waiting_for_database`` or ``waiting_for_ray`` (with the error and the next try), refreshed at least every few
seconds while the loop is alive. ``procure batch worker-health`` reads it: a fresh report proves that the loop
turns (liveness), not only that the database answers.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import os
import socket
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from service.jobs.retry import Backoff, is_transient, what_failed
from service.jobs.store import JobStatus, JobStore
from service.settings import Settings

log = logging.getLogger("procure.jobs")
REPORT_EVERY_S = 5.0
"""Longest gap between two state reports while the loop runs (a job's progress refreshes it too)."""


def state_path(settings: Settings) -> Path:
    """Where this host's worker writes its state."""
    return settings.jobs.state_file or settings.data_dir / f"worker-state-{socket.gethostname()}.json"


class WorkerState:
    """The worker's state, written atomically to a JSON file (throttled unless the state changes)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.state = "starting"
        self.fields: dict[str, Any] = {}
        self.since = time.time()
        self._written = 0.0
        self._lock = threading.Lock()

    def report(self, state: str, *, force: bool = False, **fields: Any) -> None:
        """Record the state (and details such as ``job`` or ``error``); written when it changed or is stale."""
        with self._lock:
            changed = state != self.state or fields != self.fields
            if changed and state != self.state:
                self.since = time.time()
            self.state, self.fields = state, fields
            if not (changed or force or time.time() - self._written >= REPORT_EVERY_S / 2):
                return
            now = time.time()
            payload = {"state": state, "since": _iso(self.since), "updated_at": _iso(now), "updated": now,
                       "pid": os.getpid(), "host": socket.gethostname(), **fields}
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
                tmp.write_text(json.dumps(payload, default=str), encoding="utf-8")
                os.replace(tmp, self.path)
                self._written = now
            except OSError as exc:  # a full or read-only disk must not stop the jobs
                log.warning("cannot write the worker state to %s: %s", self.path, exc)


def read_state(path: Path) -> dict[str, Any] | None:
    """The last report, or None when there is none (or it cannot be read)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def _iso(t: float) -> str:
    return dt.datetime.fromtimestamp(t, dt.UTC).isoformat(timespec="seconds")


def serve(settings: Settings, *, executor: str | None = None, workers: int | None = None, once: bool = False,
          idle_s: float = 5.0, state: WorkerState | None = None, stop: threading.Event | None = None,
          on_finished: Callable[[JobStatus], None] | None = None, runner: str | None = None) -> None:
    """Run unfinished jobs until stopped (or, with ``once``, until a pass finds none left).

    Args:
        settings: Service settings (database, executor, retry cap).
        executor: ``local`` or ``ray`` (default: ray when ``ray_address`` is set).
        workers: Workers per job.
        once: Return after a pass that ran every unfinished job (outages are still waited out).
        idle_s: Seconds between looks for new jobs.
        state: Where to report (default :func:`state_path`).
        stop: Set it to make the loop return at its next look.
        on_finished: Called with each job's final status.
        runner: ``module:function`` replacing the scenario runner (fault tests slow it down).
    """
    from service.jobs import manage

    state = state or WorkerState(state_path(settings))
    stop = stop or threading.Event()
    backoff = Backoff(settings.jobs.retry_max_s)
    store: JobStore | None = None
    while not stop.is_set():
        try:
            state.report("connecting" if store is None else "idle")
            store = store or manage.open_store(settings)
            for job_id in store.unfinished():
                if stop.is_set():
                    break
                state.report("running", job=job_id)

                def progress(st: JobStatus, job: str = job_id) -> None:
                    state.report("running", job=job, done=st.finished, total=st.total)

                def outage(exc: BaseException, job: str = job_id) -> None:
                    state.report(f"waiting_for_{what_failed(exc)}", job=job, error=_one_line(exc))

                final = manage.execute(settings, store, job_id, executor=executor, workers=workers,
                                       on_progress=progress, stop=stop, on_outage=outage, runner=runner)
                if on_finished is not None:
                    on_finished(final)
            backoff.reset()
            state.report("idle")
            if once:
                return
        except Exception as exc:
            if not is_transient(exc):
                state.report("failed", error=_one_line(exc), force=True)
                raise
            wait = backoff.next_wait()
            log.warning("batch worker: %s unavailable (%s); retrying in %.1f s", what_failed(exc), _one_line(exc),
                        wait)
            state.report(f"waiting_for_{what_failed(exc)}", error=_one_line(exc), retry_in_s=round(wait, 1))
            _sleep(wait, stop, state)
            continue
        _sleep(idle_s, stop, state)


def _sleep(seconds: float, stop: threading.Event, state: WorkerState) -> None:
    """Wait, refreshing the state report so that the health check sees a live loop."""
    deadline = time.monotonic() + seconds
    while not stop.is_set() and (left := deadline - time.monotonic()) > 0:
        stop.wait(min(left, REPORT_EVERY_S / 2))
        state.report(state.state, **state.fields)


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{exc.__class__.__name__}: {text[0][:300] if text else ''}"


def health(path: Path, max_age_s: float) -> tuple[bool, dict[str, Any]]:
    """Whether the worker reported within ``max_age_s`` (and not ``failed``), with its last report."""
    data = read_state(path)
    if data is None:
        return False, {"state": "unknown", "error": f"no state report at {path}"}
    age = time.time() - float(data.get("updated", 0))
    data["age_s"] = round(age, 1)
    return age <= max_age_s and data.get("state") not in ("failed", "stopped"), data
