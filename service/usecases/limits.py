"""Work caps that every entry point obeys: HTTP, the CLI, the agent and batch jobs call the use cases that check them.

The caps are settings (``PROCURE_LIMITS__*`` for one request, ``PROCURE_JOBS__MAX_SCENARIOS`` for one sweep), so an
operator with more cores raises them in one place; the messages say which setting to raise.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from optimizer.cancel import WorkControl, controlled, current_control
from optimizer.errors import InvalidInputError
from optimizer.request import PurchaseRequest
from service.settings import LimitSettings

MAX_COMPARE_PARTS = 8
"""Accelerators one comparison may hold (each costs a verdict and an estimate)."""


class LimitExceededError(InvalidInputError):
    """A request asks for more work than the service's caps allow (HTTP 422 ``limit_exceeded``, CLI exit 2)."""

    code = "limit_exceeded"


def check_work_limits(request: PurchaseRequest, limits: LimitSettings) -> None:
    """Refuse a plan request with more workloads or alternatives than the caps allow.

    Raises:
        LimitExceededError: one line naming the cap and the setting that raises it.
    """
    if len(request.workloads) > limits.max_workloads:
        raise LimitExceededError(
            f"workloads: {len(request.workloads)} given, at most {limits.max_workloads} per request "
            "(PROCURE_LIMITS__MAX_WORKLOADS raises the cap)")
    if request.alternatives > limits.max_alternatives:
        raise LimitExceededError(
            f"alternatives: {request.alternatives} asked, at most {limits.max_alternatives} per request "
            "(PROCURE_LIMITS__MAX_ALTERNATIVES raises the cap)")
    if request.risk is not None:
        check_risk_samples(request.risk.samples, limits)


def check_risk_samples(samples: int, limits: LimitSettings) -> None:
    """Refuse a hedged plan that draws more scenarios than the cap allows.

    Raises:
        LimitExceededError: one line naming the cap and the setting that raises it.
    """
    if samples > limits.max_risk_samples:
        raise LimitExceededError(
            f"risk.samples: {samples} asked, at most {limits.max_risk_samples} per request "
            "(PROCURE_LIMITS__MAX_RISK_SAMPLES raises the cap)")


def check_sweep_size(scenarios: int, cap: int) -> None:
    """Refuse a sweep that expands to more scenarios than ``cap`` (checked from the spec, before any expansion).

    Raises:
        LimitExceededError: the count, the cap and the setting that raises it.
    """
    if scenarios > cap:
        raise LimitExceededError(
            f"the spec expands to {scenarios:,} scenarios; this service runs at most {cap:,} per job "
            "(split the sweep, or raise PROCURE_JOBS__MAX_SCENARIOS)")


def check_compare_size(parts: int) -> None:
    """Refuse a comparison of more than :data:`MAX_COMPARE_PARTS` accelerators.

    Raises:
        LimitExceededError: the count and the cap.
    """
    if parts > MAX_COMPARE_PARTS:
        raise LimitExceededError(f"compare: {parts} accelerators given, at most {MAX_COMPARE_PARTS} per comparison")


@contextmanager
def work_limits(limits: LimitSettings) -> Iterator[WorkControl]:
    """The per-request solver budget for one unit of work outside HTTP (a CLI question, a chat turn).

    HTTP requests already run under the admission middleware's control; inside one, that control is kept (the
    budget is not applied twice). Elsewhere a control with ``limits.solver_budget_s`` is installed, so every solve
    of the work (a what-if's two plans, its break-even prices) shares the same budget as over HTTP.
    """
    existing = current_control()
    if existing is not None:
        yield existing
        return
    with controlled(WorkControl(solver_budget_s=limits.solver_budget_s)) as control:
        yield control
