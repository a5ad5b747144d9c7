"""Runs submitted jobs in the background of the API process and resumes unfinished ones after a restart."""

from __future__ import annotations

import logging
import threading

from service.jobs.manage import execute
from service.jobs.store import JobStore
from service.settings import Settings

log = logging.getLogger("procure.jobs")


class JobRunner(threading.Thread):
    """One thread that runs unfinished jobs one after another; :meth:`wake` after a submission."""

    def __init__(self, settings: Settings, store: JobStore, *, idle_s: float = 5.0, runner: str | None = None) -> None:
        super().__init__(daemon=True, name="procure-job-runner")
        self.settings, self.store, self.idle_s, self.runner = settings, store, idle_s, runner
        self._wake = threading.Event()
        self._halt = threading.Event()

    def wake(self) -> None:
        """A job was submitted (or cancelled): look again now."""
        self._wake.set()

    def shutdown(self, timeout: float = 15.0) -> None:
        """Stop the workers; the current job stays running in the store and is resumed at the next start."""
        self._halt.set()
        self._wake.set()
        self.join(timeout)

    def run(self) -> None:
        """Loop: run every unfinished job, then sleep until woken or ``idle_s`` passes."""
        while not self._halt.is_set():
            self._wake.clear()
            try:
                for job_id in self.store.unfinished():
                    if self._halt.is_set():
                        break
                    execute(self.settings, self.store, job_id, stop=self._halt, runner=self.runner)
            except Exception:  # the database is away or a job is broken: log it and try again later
                log.exception("background job runner failed; retrying")
            self._wake.wait(self.idle_s)
