"""Riding out database and Ray outages: which errors are transient, and capped exponential backoff.

A worker (or the coordinator, or ``procure batch worker``) that meets a transient error waits and tries again
instead of exiting: connection refused, a server restarting, a connection killed under it, SQLite busy. Errors of
the data or the code are not transient and still end the work with their message.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError

from service.usecases import OptimizerError

log = logging.getLogger("procure.jobs")
T = TypeVar("T")


class ExecutorUnavailableError(OptimizerError):
    """The executor's cluster (Ray) cannot be reached or was lost; the job can be resumed when it is back."""

    code = "executor_unavailable"


def is_transient(exc: BaseException) -> bool:
    """True for errors an outage causes (the database or Ray away), which a retry can outlive."""
    if isinstance(exc, OperationalError | InterfaceError | DisconnectionError | ExecutorUnavailableError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


def what_failed(exc: BaseException) -> str:
    """``database`` or ``ray``: which dependency an outage error is about."""
    return "ray" if isinstance(exc, ExecutorUnavailableError) else "database"


class Backoff:
    """Capped exponential backoff with jitter: 0.5 s, 1 s, 2 s … up to ``max_s`` (reset after a success).

    Args:
        max_s: Longest single wait.
        first_s: First wait.
    """

    def __init__(self, max_s: float = 30.0, first_s: float = 0.5) -> None:
        self.max_s, self.first_s = max_s, first_s
        self.failures = 0

    def next_wait(self) -> float:
        """The next wait in seconds (and count one more failure)."""
        base = min(self.max_s, self.first_s * 2 ** min(self.failures, 20))
        self.failures += 1
        return float(base * random.uniform(0.8, 1.0))  # noqa: S311 - jitter, not security

    def reset(self) -> None:
        """A call succeeded: start again from the first wait."""
        self.failures = 0


def retrying(fn: Callable[[], T], *, what: str, backoff: Backoff, give_up: Callable[[], bool] = lambda: False,
             on_wait: Callable[[BaseException, float], None] | None = None) -> T:
    """Call ``fn`` until it succeeds, waiting after each transient error; other errors propagate.

    Args:
        fn: The call (a store operation).
        what: Words for the log line ("claim", "record results").
        backoff: The wait schedule (shared by the caller's calls, reset after each success).
        give_up: Checked before each wait; True re-raises the last error (the job was cancelled, say).
        on_wait: Told about each error and the wait that follows (state reports).
    """
    while True:
        try:
            result = fn()
        except Exception as exc:
            if not is_transient(exc) or give_up():
                raise
            wait = backoff.next_wait()
            log.warning("%s failed (%s: %s); retrying in %.1f s", what, exc.__class__.__name__,
                        str(exc).splitlines()[0][:200], wait)
            if on_wait is not None:
                on_wait(exc, wait)
            time.sleep(wait)
            continue
        backoff.reset()
        return result
