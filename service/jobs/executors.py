"""Executors start workers and the coordinator watches them: a local process pool (default) or Ray.

Both run the same worker loop (:func:`service.jobs.worker.work`) against the same store, so they give the
same results; the store, not the executor, decides which scenario runs where.

The coordinator (:func:`run_job`) outlives outages: while the database is away it keeps its workers running
and looks again with backoff; a Ray cluster that cannot be reached or is lost raises
:class:`~service.jobs.retry.ExecutorUnavailableError`, which ``procure batch worker`` waits out before resuming.
"""

from __future__ import annotations

import logging
import multiprocessing as mp
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from multiprocessing.process import BaseProcess
from pathlib import Path
from typing import Any, Protocol

from service.jobs.retry import Backoff, ExecutorUnavailableError, is_transient
from service.jobs.store import JobStatus, JobStore
from service.jobs.worker import WorkerConfig, new_token, process_main, work
from service.settings import Settings

ProgressFn = Callable[[JobStatus], None]


class Executor(Protocol):
    """Starts workers and reports which ones ended."""

    name: str

    def spawn(self, config: WorkerConfig, owner: str) -> None:
        """Start one worker running ``config`` as lease holder ``owner``."""

    def exited(self) -> list[tuple[str, bool]]:
        """Workers that ended since the last call, with whether they ended cleanly."""

    def running(self) -> int:
        """How many workers are still running."""

    def stop(self) -> None:
        """Stop every worker now."""

    def close(self) -> None:
        """Release the executor's resources."""


class LocalExecutor:
    """Worker processes on this machine (``spawn`` start method: no state is shared with the parent)."""

    name = "local"

    def __init__(self) -> None:
        self._ctx = mp.get_context("spawn")
        self.procs: dict[str, BaseProcess] = {}

    def spawn(self, config: WorkerConfig, owner: str) -> None:
        """Start a process that runs the worker loop."""
        proc = self._ctx.Process(target=process_main, args=(replace(config, parent_pid=os.getpid()), owner),
                                 name=f"procure-worker-{len(self.procs)}", daemon=True)
        proc.start()
        self.procs[owner] = proc

    def exited(self) -> list[tuple[str, bool]]:
        """Ended processes; a non-zero exit code (killed, crashed) is not clean."""
        out = []
        for owner, proc in list(self.procs.items()):
            if not proc.is_alive():
                proc.join()
                out.append((owner, proc.exitcode == 0))
                del self.procs[owner]
        return out

    def running(self) -> int:
        """Live processes."""
        return sum(p.is_alive() for p in self.procs.values())

    def pids(self) -> dict[str, int | None]:
        """Process ids by lease holder (fault tests kill one)."""
        return {o: p.pid for o, p in self.procs.items()}

    def stop(self) -> None:
        """Terminate the processes (SIGTERM, then SIGKILL after 3 s)."""
        for proc in self.procs.values():
            if proc.is_alive():
                proc.terminate()
        for proc in self.procs.values():
            proc.join(3)
            if proc.is_alive():
                proc.kill()
                proc.join(3)

    def close(self) -> None:
        """Nothing beyond :meth:`stop`."""
        self.stop()


def _ray_work(config: WorkerConfig, owner: str) -> dict[str, int]:
    return work(config, owner=owner)


class RayExecutor:
    """Workers as Ray tasks (one CPU each) on the cluster at ``address``, or on a local Ray started here."""

    name = "ray"

    def __init__(self, address: str | None, *, num_cpus: int | None = None, temp_dir: Path | None = None) -> None:
        if not address:
            # A single-node Ray of our own binds to loopback (Ray reads this when it is first imported).
            os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
        os.environ.setdefault("RAY_AUTH_MODE", "disabled")
        os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
        try:
            import ray
        except ImportError:
            from service.usecases import InvalidInputError

            raise InvalidInputError("the ray executor needs the ray extra: pip install 'procure[ray]'") from None
        self._ray = ray
        self._owns = False
        if not ray.is_initialized():
            if address:
                _probe(address)  # ray.init waits minutes for an absent cluster; fail (and back off) at once
            try:
                if address:
                    ray.init(address=address, log_to_driver=False, logging_level=logging.WARNING)
                else:
                    tmp = temp_dir or Path(tempfile.gettempdir()) / "procure-ray"
                    ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, log_to_driver=False,
                             logging_level=logging.WARNING, _node_ip_address="127.0.0.1", _temp_dir=str(tmp))
            except Exception as exc:  # ray raises ConnectionError, RuntimeError, TimeoutError … when it is away
                ray.shutdown()
                raise ExecutorUnavailableError(f"cannot reach the Ray cluster at {address or 'a local Ray'}: "
                                               f"{str(exc).splitlines()[0][:300]}") from None
            self._owns = True
        self._remote = ray.remote(num_cpus=1, max_retries=0)(_ray_work)
        self.refs: dict[str, Any] = {}

    def spawn(self, config: WorkerConfig, owner: str) -> None:
        """Submit one long-running worker task."""
        self.refs[owner] = self._remote.remote(config, owner)

    def exited(self) -> list[tuple[str, bool]]:
        """Finished tasks; a task that raised or whose worker died is not clean."""
        if not self.refs:
            return []
        try:
            ready, _ = self._ray.wait(list(self.refs.values()), num_returns=len(self.refs), timeout=0)
        except Exception as exc:  # the driver lost the cluster (head down, network gone)
            raise ExecutorUnavailableError(f"lost the Ray cluster: {str(exc).splitlines()[0][:300]}") from None
        out = []
        for owner, ref in list(self.refs.items()):
            if ref in ready:
                try:
                    self._ray.get(ref)
                    out.append((owner, True))
                except Exception:
                    out.append((owner, False))
                del self.refs[owner]
        return out

    def running(self) -> int:
        """Tasks not finished."""
        return len(self.refs)

    def stop(self) -> None:
        """Cancel the tasks (force: the worker processes are killed)."""
        for ref in self.refs.values():
            try:
                self._ray.cancel(ref, force=True)
            except Exception:  # already finished
                pass
        self.refs.clear()

    def close(self) -> None:
        """Stop the tasks and disconnect from Ray (a local Ray this executor started stops with it)."""
        self.stop()
        if self._owns:
            try:
                self._ray.shutdown()
            except Exception:  # noqa: S110 - the cluster is already gone
                pass


def _probe(address: str, timeout_s: float = 3.0) -> None:
    """Raise :class:`ExecutorUnavailableError` when nothing listens at a ``[ray://]host:port`` cluster address."""
    host, sep, port = address.removeprefix("ray://").rpartition(":")
    if not sep or not port.isdigit():
        return  # "auto" or another form Ray resolves itself
    try:
        socket.create_connection((host.strip("[]") or "127.0.0.1", int(port)), timeout=timeout_s).close()
    except OSError as exc:
        raise ExecutorUnavailableError(f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}") from None


def worker_config(settings: Settings, db_url: str, job_id: str, *, runner: str | None = None) -> WorkerConfig:
    """A worker configuration from the service settings."""
    js = settings.jobs
    return WorkerConfig(db_url=db_url, job_id=job_id, lease_s=js.lease_s, batch=js.claim_batch, poll_s=js.poll_s,
                        max_attempts=js.max_attempts, catalog_files=tuple(str(p) for p in settings.catalog_files),
                        rule_files=tuple(str(p) for p in settings.rule_files),
                        solver=settings.solver.model_dump(), runner=runner, limits=settings.limits.model_dump(),
                        retry_max_s=js.retry_max_s)


def make_executor(kind: str | None, settings: Settings, *, workers: int) -> Executor:
    """``local`` (default) or ``ray`` (default when ``PROCURE_RAY_ADDRESS`` is set)."""
    kind = kind or ("ray" if settings.ray_address else "local")
    if kind == "ray":
        return RayExecutor(settings.ray_address, num_cpus=workers, temp_dir=settings.data_dir.resolve() / "ray")
    return LocalExecutor()


def run_job(store: JobStore, job_id: str, executor: Executor, config: WorkerConfig, *, workers: int,
            on_progress: ProgressFn | None = None, poll_s: float = 0.25, stop: threading.Event | None = None,
            resume_cancelled: bool = False, max_restarts: int | None = None, progress_s: float = 1.0,
            on_outage: Callable[[BaseException], None] | None = None) -> JobStatus:
    """Run (or resume) a job to its end: start workers, replace dead ones, follow progress, stop on cancel.

    A worker that dies (killed, crashed) has its scenarios released at once and is replaced; a service
    shutdown (``stop`` set) stops the workers and leaves the job running in the store, to be resumed. While the
    database is away the workers keep computing (and retrying their writes) and the coordinator keeps looking,
    with backoff, telling ``on_outage`` each time.

    Raises:
        ExecutorUnavailableError: the Ray cluster was lost (the job stays running in the store, to be resumed).
    """
    status = store.start(job_id, executor.name, resume_cancelled=resume_cancelled)
    if status.state != "running":
        return status
    owners: list[str] = []
    restarts = 0
    limit = max_restarts if max_restarts is not None else 3 * workers
    for _ in range(max(1, workers)):
        owners.append(new_token(f"{executor.name}-"))
        executor.spawn(config, owners[-1])
    last_progress = 0.0
    backoff = Backoff(config.retry_max_s)
    try:
        while True:
            try:
                # the state is one primary-key read; counting scenarios (progress) is done at most once a second
                if store.job_state(job_id) != "running" or (stop is not None and stop.is_set()):
                    break
                if on_progress and time.monotonic() - last_progress >= progress_s:
                    on_progress(store.status(job_id))
                    last_progress = time.monotonic()
                for owner, clean in executor.exited():
                    if clean:
                        continue
                    store.release(owner)  # a dead worker's scenarios are claimable now, not at lease expiry
                    if restarts < limit:
                        restarts += 1
                        owners.append(new_token(f"{executor.name}-"))
                        executor.spawn(config, owners[-1])
                if executor.running() == 0:
                    break
                backoff.reset()
                time.sleep(poll_s)
            except ExecutorUnavailableError:
                raise
            except Exception as exc:
                if not is_transient(exc) or (stop is not None and stop.is_set()):
                    raise
                if on_outage is not None:
                    on_outage(exc)
                time.sleep(backoff.next_wait())  # the database is away: the workers retry on their own
    finally:
        executor.stop()
        try:
            for owner in owners:
                store.release(owner)
            store.finish_if_done(job_id)
        except Exception as exc:  # the database is away: the leases expire and the job is resumed later
            logging.getLogger("procure.jobs").warning("could not release the leases of job %s: %s", job_id, exc)
    status = store.status(job_id)
    if on_progress:
        on_progress(status)
    return status
