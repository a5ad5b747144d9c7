"""A batch worker: claim a few scenarios, solve them, record the results, repeat until the job is done.

A worker is one process (a local pool process or a Ray task). It builds the domain once and keeps its
estimate cache for every scenario it runs; a heartbeat thread renews its leases and notices a cancel.
This module imports neither FastAPI nor Typer (an import-linter contract keeps it that way).

Identity: the coordinator hands each worker a token (``ray-1a2b3c4d``); the worker appends where it really runs
(host, Ray node and process), and that name is both its lease owner and the ``worker`` of every result it
records, so a result says which node computed it. Outages: a claim or a result that fails because the database
is away is retried with capped backoff (:mod:`service.jobs.retry`); results computed meanwhile are kept in
memory and recorded when the database is back (a result recorded twice is dropped by the store).
"""

from __future__ import annotations

import functools
import importlib
import logging
import os
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from service.container import build_context
from service.jobs.retry import Backoff, retrying
from service.jobs.runner import describe_error, run_scenario
from service.jobs.store import JobStore, Outcome
from service.settings import LimitSettings, Settings, SolverSettings
from service.storage import make_engine
from service.usecases.batch import ScenarioContext, scenario_context

log = logging.getLogger("procure.jobs")

Runner = Callable[[ScenarioContext, dict[str, Any]], dict[str, Any]]
T = TypeVar("T")


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
    limits: dict[str, Any] = field(default_factory=dict)
    """The service's per-request caps (``PROCURE_LIMITS__*``): a scenario obeys the same caps as a request."""
    retry_max_s: float = 30.0

    def settings(self) -> Settings:
        """The settings the domain is built from (catalog and rule files, solver limits, work caps)."""
        return Settings(catalog_files=[Path(p) for p in self.catalog_files],
                        rule_files=[Path(p) for p in self.rule_files],
                        solver=SolverSettings.model_validate(self.solver),
                        limits=LimitSettings.model_validate(self.limits))


def new_token(prefix: str = "") -> str:
    """A token the coordinator gives one worker (``ray-1a2b3c4d``); the worker's owner name starts with it."""
    return f"{prefix}{uuid.uuid4().hex[:8]}"


def where_am_i() -> str:
    """Where this process runs: host and pid, plus the Ray node's address and id inside a Ray worker."""
    place = socket.gethostname()
    ray = sys.modules.get("ray")
    if ray is not None:
        try:
            if ray.is_initialized():
                node = ray.get_runtime_context().get_node_id()
                place += f"/{ray.util.get_node_ip_address()}/node:{node[:8]}"
        except Exception:  # noqa: S110 - outside a Ray worker (or an old Ray): host and pid say enough
            pass
    return f"{place}/pid:{os.getpid()}"


def owner_name(token: str) -> str:
    """The lease owner and ``worker`` value of a worker started with ``token``: ``<token>@<where it runs>``."""
    return f"{token}@{where_am_i()}"[:128]


def new_owner(prefix: str = "") -> str:
    """A lease-holder id for a worker run in this process (no coordinator token)."""
    return owner_name(new_token(prefix))


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
    """Run the job's scenarios until none is left (or the job stops); returns counts for this worker.

    Args:
        config: What to run and where the store is.
        owner: The coordinator's token for this worker (the worker appends where it runs); default a new one.
        context: A prepared scenario context (tests); default one built from ``config``.
    """
    owner = owner_name(owner) if owner else new_owner(config.owner_prefix)
    engine = make_engine(config.db_url)
    store = JobStore(engine)
    runner = load_runner(config.runner)
    ctx = context or scenario_context(build_context(config.settings()))
    beat = _Heartbeat(store, config.job_id, owner, config.lease_s, config.parent_pid)
    beat.start()
    stats = {"done": 0, "failed": 0, "claims": 0}
    backoff = Backoff(config.retry_max_s)

    def call(fn: Callable[[], T], what: str) -> T:
        return retrying(fn, what=what, backoff=backoff, give_up=beat.cancelled.is_set)

    try:
        while not beat.cancelled.is_set():
            claimed = call(lambda: store.claim(config.job_id, owner, limit=config.batch, lease_s=config.lease_s,
                                               max_attempts=config.max_attempts, own=True), "claim")
            if not claimed:
                if call(lambda: store.fail_exhausted(config.job_id, config.max_attempts), "fail exhausted"):
                    continue
                state, left = call(lambda: store.pending_work(config.job_id), "read progress")
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
            # results are kept until recorded: a database outage here delays them, it does not lose them
            retrying(functools.partial(store.complete, config.job_id, owner, outcomes), what="record results",
                     backoff=backoff)
            stats["done"] += sum(o.ok for o in outcomes)
            stats["failed"] += sum(not o.ok for o in outcomes)
    finally:
        beat.stop.set()
        beat.join(timeout=5)
        try:
            store.release(owner)  # scenarios claimed but not run (cancel, error) are claimable again at once
            store.finish_if_done(config.job_id)
        except Exception as exc:  # the database is away: the leases expire and another worker takes over
            log.warning("could not hand back the leases of %s: %s", owner, exc)
        engine.dispose()
    return stats


def process_main(config: WorkerConfig, owner: str) -> None:
    """Entry point of a local pool process."""
    logging.basicConfig(level=logging.WARNING)
    work(config, owner=owner)
