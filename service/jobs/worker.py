"""A batch worker: claim a few scenarios, solve them, record the results, repeat until the job is done.

A worker is one process (a local pool process or a Ray task). It builds the domain once and keeps its
estimate cache for every scenario it runs; a heartbeat thread renews its leases and notices a cancel.
This module imports neither FastAPI nor Typer (an import-linter contract keeps it that way).
"""

from __future__ import annotations

import importlib
import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from service.container import build_context
from service.jobs.runner import describe_error, run_scenario
from service.jobs.store import JobStore, Outcome
from service.settings import Settings, SolverSettings
from service.storage import make_engine
from service.usecases.batch import ScenarioContext, scenario_context

log = logging.getLogger("procure.jobs")

Runner = Callable[[ScenarioContext, dict[str, Any]], dict[str, Any]]


@dataclass(frozen=True)
class WorkerConfig:
    """Everything a worker process needs (picklable: it crosses process and Ray boundaries)."""

    db_url: str
    job_id: str
    lease_s: float = 60.0
    batch: int = 8
    poll_s: float = 0.5
    max_attempts: int = 3
    catalog_files: tuple[str, ...] = ()
    rule_files: tuple[str, ...] = ()
    solver: dict[str, Any] = field(default_factory=dict)
    runner: str | None = None  # "module:function" replacing run_scenario (tests inject slow or failing runners)
    owner_prefix: str = ""
    parent_pid: int | None = None  # a local pool process stops when this process is gone (no orphans)

    def settings(self) -> Settings:
        """The settings the domain is built from (catalog and rule files, solver limits)."""
        return Settings(catalog_files=[Path(p) for p in self.catalog_files],
                        rule_files=[Path(p) for p in self.rule_files],
                        solver=SolverSettings.model_validate(self.solver))


def new_owner(prefix: str = "") -> str:
    """A lease-holder id that says where the worker runs: host, pid and a random suffix."""
    return f"{prefix}{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"[:128]


def load_runner(path: str | None) -> Runner:
    """``run_scenario`` or the function named ``module:function``."""
    if not path:
        return run_scenario
    module, _, name = path.partition(":")
    fn: Runner = getattr(importlib.import_module(module), name)
    return fn


class _Heartbeat(threading.Thread):
    """Renews the worker's leases and watches the job's state, so a cancel stops the worker between scenarios."""

    def __init__(self, store: JobStore, job_id: str, owner: str, lease_s: float, parent_pid: int | None) -> None:
        super().__init__(daemon=True, name="procure-heartbeat")
        self.store, self.job_id, self.owner, self.lease_s = store, job_id, owner, lease_s
        self.parent_pid = parent_pid
        self.stop = threading.Event()
        self.cancelled = threading.Event()

    def run(self) -> None:
        interval = max(0.05, min(self.lease_s / 3, 1.0))
        while not self.stop.wait(interval):
            if self.parent_pid is not None and os.getppid() != self.parent_pid:
                self.cancelled.set()  # the coordinator died: stop, hand the leases back, let a restart resume
            try:
                if self.store.job_state(self.job_id) != "running":
                    self.cancelled.set()
                self.store.renew(self.owner, self.lease_s)
            except Exception:  # a database hiccup: the next beat tries again, the lease covers the gap
                log.warning("heartbeat failed", exc_info=True)


def work(config: WorkerConfig, *, owner: str | None = None, context: ScenarioContext | None = None) -> dict[str, int]:
    """Run the job's scenarios until none is left (or the job stops); returns counts for this worker."""
    owner = owner or new_owner(config.owner_prefix)
    engine = make_engine(config.db_url)
    store = JobStore(engine)
    runner = load_runner(config.runner)
    ctx = context or scenario_context(build_context(config.settings()))
    beat = _Heartbeat(store, config.job_id, owner, config.lease_s, config.parent_pid)
    beat.start()
    stats = {"done": 0, "failed": 0, "claims": 0}
    try:
        while not beat.cancelled.is_set():
            claimed = store.claim(config.job_id, owner, limit=config.batch, lease_s=config.lease_s,
                                  max_attempts=config.max_attempts)
            if not claimed:
                if store.fail_exhausted(config.job_id, config.max_attempts):
                    continue
                state, left = store.pending_work(config.job_id)
                if state != "running" or left == 0:
                    break
                time.sleep(config.poll_s)  # others hold the rest; wait in case one dies and its lease expires
                continue
            stats["claims"] += 1
            outcomes = []
            for c in claimed:
                if beat.cancelled.is_set():
                    break
                t0 = time.perf_counter()
                try:
                    row, ok, err = runner(ctx, c.payload), True, None
                except Exception as exc:  # one bad scenario is a failed result, never a dead job
                    row, ok, err = None, False, describe_error(exc)
                outcomes.append(Outcome(c.scenario_id, c.seq, ok, row, err, (time.perf_counter() - t0) * 1000,
                                        c.attempts))
            store.complete(config.job_id, owner, outcomes)
            stats["done"] += sum(o.ok for o in outcomes)
            stats["failed"] += sum(not o.ok for o in outcomes)
    finally:
        beat.stop.set()
        beat.join(timeout=5)
        store.release(owner)  # scenarios claimed but not run (cancel, error) are claimable again at once
        store.finish_if_done(config.job_id)
        engine.dispose()
    return stats


def process_main(config: WorkerConfig, owner: str) -> None:
    """Entry point of a local pool process."""
    logging.basicConfig(level=logging.WARNING)
    work(config, owner=owner)
