"""Work admission: a work control for every ``/v1`` request, and slots that heavy requests queue for.

Every ``/v1`` request runs under a :class:`optimizer.cancel.WorkControl` with the request's solver budget and
deadline; heavy requests (plans, what-ifs, chat, ingestion, job submission) first wait for one of
``limits.max_concurrent_solves`` slots.

* At the deadline the work is cancelled. The answer is 503 (``overloaded``, with ``Retry-After``) when the request
  spent more of its deadline queued for a slot than running, because the server was busy; otherwise 504
  (``deadline_exceeded``), because the work itself was too big. Work that already passed its commit point
  (a job was stored) cannot be cancelled: its own answer is awaited and sent, so a client is never told that
  something failed that then exists.
* A client that disconnects before its answer is complete cancels its work (``client_disconnected`` counts
  exactly these); :func:`cancel_all` (graceful shutdown) stops every unit of work in flight.
* The slot is held until the cancelled work has really stopped, so locks it holds (the ingestion lock) are free
  before another heavy request starts.
"""

from __future__ import annotations

import asyncio
import time

from service.api import metrics
from service.api.errors import problem
from service.api.middleware._asgi import ASGIApp, Receive, ResponseState, Scope, Send
from service.api.middleware.limits import Replay
from service.settings import LimitSettings
from service.usecases import WorkControl, controlled

HEAVY = (("POST", "/v1/recommendations"), ("POST", "/v1/corpus/documents"), ("POST", "/v1/chat"),
         ("POST", "/v1/jobs"))
"""(method, path prefix) of the requests that solve, ingest or expand sweeps and therefore queue for a slot."""
STOP_WAIT_S = 30.0
"""Longest wait for cancelled work to reach its next check and stop, after its client was answered."""

_active: set[WorkControl] = set()


def cancel_all(reason: str = "shutdown") -> int:
    """Cancel every unit of work in flight (graceful shutdown); returns how many were cancelled."""
    return sum(control.cancel(reason) for control in list(_active))


def in_flight() -> int:
    """Units of work running now."""
    return len(_active)


class WorkMiddleware:
    """Deadline, cancellation, solver budget and a concurrency limit for heavy requests under ``/v1``."""

    def __init__(self, app: ASGIApp, *, limits: LimitSettings) -> None:
        self.app = app
        self.limits = limits
        self._slots: asyncio.Semaphore | None = None

    def _semaphore(self) -> asyncio.Semaphore:
        if self._slots is None:  # created on the server's event loop, not at import
            self._slots = asyncio.Semaphore(self.limits.max_concurrent_solves)
        return self._slots

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:  # noqa: D102 - ASGI entry
        if scope["type"] != "http" or not scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return
        heavy = any(scope["method"] == m and scope["path"].startswith(p) for m, p in HEAVY)
        budget = self.limits.request_deadline_s
        arrived = time.monotonic()
        slots = self._semaphore() if heavy else None
        if slots is not None:
            try:
                await asyncio.wait_for(slots.acquire(), timeout=budget)
            except TimeoutError:
                metrics.REJECTED.labels("queue_timeout").inc()
                await problem(503, "overloaded", "Service overloaded",
                              f"no solver slot became free within {budget:g} s; retry later",
                              headers={"Retry-After": "5"})(scope, receive, send)
                return
        started = time.monotonic()
        control = WorkControl(solver_budget_s=self.limits.solver_budget_s)
        _active.add(control)
        state = ResponseState(send)
        try:
            with controlled(control):  # the task below (and the worker thread it uses) copies this context
                task = asyncio.ensure_future(self.app(scope, receive, state))
            watcher = (asyncio.ensure_future(self._watch_disconnect(receive, control, state, task))
                       if isinstance(receive, Replay) else None)
            try:
                await asyncio.wait_for(asyncio.shield(task), timeout=max(0.0, arrived + budget - time.monotonic()))
            except TimeoutError:
                if control.cancel("deadline"):
                    await self._answer_deadline(scope, receive, send, state, queued_s=started - arrived,
                                                ran_s=time.monotonic() - started)
                    await asyncio.wait({task}, timeout=STOP_WAIT_S)  # the cancelled work ends at its next check
                else:
                    await task  # past its commit point: the work's own answer stands and is sent
            finally:
                if watcher is not None:
                    watcher.cancel()
                if isinstance(receive, Replay):
                    receive.close()
        finally:
            _active.discard(control)
            if control.solves:
                metrics.SOLVER_SECONDS.observe(control.solver_seconds)
            if slots is not None:
                slots.release()

    async def _answer_deadline(self, scope: Scope, receive: Receive, send: Send, state: ResponseState, *,
                               queued_s: float, ran_s: float) -> None:
        """503 when the request mostly waited for a slot (the server is busy), else 504 (the work is too big)."""
        budget = self.limits.request_deadline_s
        overloaded = queued_s > ran_s
        metrics.REJECTED.labels("queue_timeout" if overloaded else "deadline").inc()
        if state.status is not None:
            return  # a streamed answer had started: it just stops
        state.closed = True
        if overloaded:
            await problem(503, "overloaded", "Service overloaded",
                          f"the request waited {queued_s:.1f} s for a solver slot and ran {ran_s:.1f} s before its "
                          f"{budget:g} s deadline; the server is busy, retry later",
                          headers={"Retry-After": "5"})(scope, receive, send)
            return
        await problem(504, "deadline_exceeded", "Deadline exceeded",
                      f"the request took longer than {budget:g} s and was cancelled; ask for fewer workloads, "
                      "alternatives, Pareto points or scenarios")(scope, receive, send)

    @staticmethod
    async def _watch_disconnect(receive: Replay, control: WorkControl, state: ResponseState,
                                task: asyncio.Future[None]) -> None:
        """Cancel the work of a client that went away before its answer was complete (and count only those)."""
        await receive.wait_disconnect()
        if state.complete or task.done():
            return  # the server reports a disconnect after every complete answer too: that is no hang-up
        if control.cancel("client disconnected"):
            metrics.REJECTED.labels("client_disconnected").inc()
