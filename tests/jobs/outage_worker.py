"""The batch worker loop in a process of its own, for outage tests (started by multiprocessing, spawn)."""

from __future__ import annotations

import logging
from pathlib import Path

from service.jobs.daemon import WorkerState, serve
from service.settings import Settings


def run_worker(db_url: str, data_dir: str, state_file: str) -> None:
    """``procure batch worker --once`` with the slow test runner and a 1-second retry cap."""
    logging.basicConfig(level=logging.WARNING)
    settings = Settings(database_url=db_url, data_dir=Path(data_dir),
                        jobs={"workers": 2, "retry_max_s": 1, "lease_s": 30, "poll_s": 0.1, "claim_batch": 2})
    serve(settings, executor="local", once=True, idle_s=0.5, state=WorkerState(Path(state_file)),
          runner="tests.jobs.runners:slow")
