"""Cooperative limits for one unit of work (an HTTP request, a CLI command, a batch job).

A :class:`WorkControl` is installed for the current context with :func:`controlled`; every CP-SAT solve and every
estimator call made in that context consults it:

* a **solver budget**: the CP-SAT time all solves of the request may spend together; a solve that would start
  with nothing left returns ``unknown`` at once, and each one's limit is cut to what is left;
* **cancellation** (deadline passed, client gone, server shutting down): :meth:`WorkControl.cancel` stops the
  running CP-SAT search (``stop_search``) from any thread, and the next check raises :class:`WorkCancelledError`;
* a **commit point**: work that makes something durable (a job row, an ingested document) calls
  :func:`commit_point` just before its commit. It raises when the work was already cancelled, and otherwise marks the
  work committed, after which :meth:`WorkControl.cancel` refuses (returns False): the supervisor then waits for the
  answer instead of telling the client that the work failed. Nothing is ever created after the client was told so.

Long loops outside CP-SAT (scenario expansion, ingestion, hedging scenarios) call :func:`check_cancelled` every
few hundred items, or take a checker with :func:`checker` to hand to code that must not import this module.

Without a control installed nothing changes: solves use their own time limits and are never cancelled.
"""

from __future__ import annotations

import contextvars
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, Protocol

from optimizer.errors import OptimizerError


class WorkCancelledError(OptimizerError):
    """The work was cancelled (``reason`` says why: deadline, disconnect or shutdown)."""

    code = "work_cancelled"

    def __init__(self, reason: str) -> None:
        super().__init__(f"work cancelled: {reason}")
        self.reason = reason


class _Stoppable(Protocol):
    def stop_search(self) -> Any: ...


class WorkControl:
    """Budget and cancellation flag shared by the thread doing the work and the one supervising it.

    Args:
        solver_budget_s: Total CP-SAT seconds for the whole unit of work (``None``: no budget).
    """

    def __init__(self, solver_budget_s: float | None = None) -> None:
        self.solver_budget_s = solver_budget_s
        self.solver_seconds = 0.0
        self.solves = 0
        self.reason: str | None = None
        self.committed = False
        """True once the work passed its commit point (see :meth:`begin_commit`); it can no longer be cancelled."""
        self._lock = threading.Lock()
        self._running: set[_Stoppable] = set()

    @property
    def cancelled(self) -> bool:
        """True once :meth:`cancel` was called."""
        return self.reason is not None

    def cancel(self, reason: str) -> bool:
        """Stop running searches now and make every later check raise (idempotent; first reason wins).

        Returns:
            True when the work is (now or already) cancelled; False when it already passed its commit point, so
            its effect stands and its caller should wait for its answer.
        """
        with self._lock:
            if self.committed:
                return False
            if self.reason is None:
                self.reason = reason
            running = list(self._running)
        for solver in running:
            solver.stop_search()
        return True

    def begin_commit(self) -> None:
        """Pass the commit point: raise :class:`WorkCancelledError` if cancelled, else refuse later cancels.

        Call it right before making the work's effect durable (committing a transaction); everything after it
        should be short, because a supervisor whose deadline passes now waits for it.
        """
        with self._lock:
            if self.reason is not None:
                raise WorkCancelledError(self.reason)
            self.committed = True

    def check(self) -> None:
        """Raise :class:`WorkCancelledError` if cancelled."""
        if self.reason is not None:
            raise WorkCancelledError(self.reason)

    def time_limit(self, wanted_s: float) -> float:
        """The time limit for the next solve: ``wanted_s`` cut to what is left of the budget (0: none left)."""
        self.check()
        if self.solver_budget_s is None:
            return wanted_s
        return max(0.0, min(wanted_s, self.solver_budget_s - self.solver_seconds))

    @contextmanager
    def running(self, solver: _Stoppable) -> Iterator[None]:
        """Register ``solver`` so that :meth:`cancel` can stop it; account its wall time afterwards."""
        start = time.perf_counter()
        with self._lock:
            self._running.add(solver)
            cancelled = self.reason is not None
        if cancelled:
            solver.stop_search()
        try:
            yield
        finally:
            with self._lock:
                self._running.discard(solver)
                self.solver_seconds += time.perf_counter() - start
                self.solves += 1
        self.check()


_current: contextvars.ContextVar[WorkControl | None] = contextvars.ContextVar("procure_work_control", default=None)


def current_control() -> WorkControl | None:
    """The control installed for this context, if any."""
    return _current.get()


def check_cancelled() -> None:
    """Raise :class:`WorkCancelledError` when the current work was cancelled (cheap; call in long loops)."""
    control = _current.get()
    if control is not None:
        control.check()


def commit_point() -> None:
    """:meth:`WorkControl.begin_commit` of the current control (nothing without one)."""
    control = _current.get()
    if control is not None:
        control.begin_commit()


def checker() -> Callable[[], None]:
    """A function that raises :class:`WorkCancelledError` once the current work is cancelled.

    It keeps the control of the context it was made in, so it also works in threads that did not copy the
    context, and it can be handed to packages that must not import this module (the corpus index).
    """
    control = _current.get()
    if control is None:
        return _never
    return control.check


def _never() -> None:
    return None


@contextmanager
def controlled(control: WorkControl) -> Iterator[WorkControl]:
    """Install ``control`` for the code run inside (and for threads started with a copy of this context)."""
    token = _current.set(control)
    try:
        yield control
    finally:
        _current.reset(token)
