"""Solve the two-stage model stage by stage; the solve honours the request's WorkControl (budget, cancellation).

A stage that cannot produce a solution ends the solve with its status (data, never an exception). The objective is
returned as a tuple to minimise, so two plans (today's, pinned, and the hedged one) compare lexicographically.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping
from dataclasses import dataclass, field

from optimizer.cancel import check_cancelled, current_control
from optimizer.cpsat import cp_model
from optimizer.risk.coefficients import Coefficients
from optimizer.risk.model import HedgeModel
from optimizer.solve import CPSAT_PARAMETERS, SolveStatus

_STATUS = {cp_model.OPTIMAL: SolveStatus.optimal, cp_model.FEASIBLE: SolveStatus.feasible,
           cp_model.INFEASIBLE: SolveStatus.infeasible, cp_model.MODEL_INVALID: SolveStatus.model_invalid,
           cp_model.UNKNOWN: SolveStatus.unknown}


@dataclass(frozen=True)
class StageLimits:
    """CP-SAT limits of every stage."""

    time_limit_s: float = 5.0
    num_workers: int = 1
    seed: int = 0


@dataclass(frozen=True)
class HedgeSolution:
    """First stage, recourse per scenario, flags, and the stage objectives (to minimise)."""

    status: SolveStatus
    selection: dict[str, int] = field(default_factory=dict)
    recourse: list[dict[str, int]] = field(default_factory=list)
    on: list[bool] = field(default_factory=list)
    fail: list[bool] = field(default_factory=list)
    objective: tuple[int, ...] = ()
    on_weight: int = 0
    wall_time_s: float = 0.0
    stages: int = 0
    variables: int = 0


def _run(hm: HedgeModel, limits: StageLimits, hint: Mapping[str, int] | None) -> tuple[SolveStatus, cp_model.CpSolver]:
    check_cancelled()
    if hint:
        hm.model.clear_hints()  # type: ignore[no-untyped-call]
        for oid, var in hm.x.items():
            hm.model.add_hint(var, int(hint.get(oid, 0)))
    time_limit = limits.time_limit_s
    control = current_control()
    if control is not None:
        time_limit = control.time_limit(time_limit)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit
    solver.parameters.num_workers = limits.num_workers
    solver.parameters.random_seed = limits.seed
    solver.parameters.log_search_progress = False  # keep stdout clean
    for key, value in CPSAT_PARAMETERS.items():
        setattr(solver.parameters, key, value)
    if control is None:
        return _STATUS.get(solver.solve(hm.model), SolveStatus.unknown), solver
    if time_limit <= 0:
        return SolveStatus.unknown, solver
    with control.running(solver):
        status = _STATUS.get(solver.solve(hm.model), SolveStatus.unknown)
    return status, solver


def _extract(hm: HedgeModel, solver: cp_model.CpSolver) -> tuple[dict[str, int], list[dict[str, int]], list[bool],
                                                                  list[bool]]:
    sel = {oid: int(solver.value(v)) for oid, v in hm.x.items() if solver.value(v)}
    rec = [{oid: int(solver.value(v)) for oid, v in cv.rec.items() if solver.value(v)} for cv in hm.of]
    on = [bool(solver.value(v)) for v in hm.on]
    fail = [bool(solver.value(cv.fail)) if cv.fail is not None else False for cv in hm.of]
    return sel, rec, on, fail


def min_on_weight(co: Coefficients, probability: float) -> int:
    """The on-time weight a probability floor asks for."""
    return math.ceil(probability * co.total_weight - 1e-9)


def solve_hedge(co: Coefficients, *, fixed: Mapping[str, int] | None = None, require_on: int | None = None,
                hint: Mapping[str, int] | None = None, limits: StageLimits = StageLimits()) -> HedgeSolution:
    """Solve for the coefficients' objective.

    Args:
        co: the model's figures.
        fixed: pin the first stage to this selection (evaluates a given plan with its best recourse).
        require_on: for expected_cost/cvar, the least on-time weight (None: measure it first, for a pinned plan).
        hint: a first-stage selection to start from.
        limits: CP-SAT limits per stage.

    Returns:
        The solution, or a status without one.
    """
    start = time.perf_counter()
    hm = HedgeModel(co, fixed=fixed)
    variables = len(hm.model.proto.variables)
    stages: list[tuple[cp_model.LinearExprT, bool, bool]] = []  # (expression, maximise, part of the objective)
    objective = co.terms.objective
    if objective == "on_time":
        fastest = co.table.request.resolved_objective == "min_time" and bool(hm.training)
        stages = [(hm.weighted_on(), True, True), (hm.weighted_workloads_on(), True, True),
                  (hm.nominal_makespan() if fastest else hm.nominal_cost(), False, True),
                  (hm.weighted_cost(), False, True)]
    else:
        if require_on is None:
            stages.append((hm.weighted_on(), True, False))
        else:
            hm.model.add(hm.weighted_on() >= require_on)
        if objective == "cvar":
            stages.append((hm.cvar_expr(), False, True))
        stages.append((hm.weighted_cost(), False, True))
    values: list[int] = []
    sel: dict[str, int] = dict(hint or {})
    final = SolveStatus.optimal
    solver: cp_model.CpSolver | None = None
    for n, (expr, maximize, counted) in enumerate(stages, start=1):
        if maximize:
            hm.model.maximize(expr)
        else:
            hm.model.minimize(expr)
        status, solver = _run(hm, limits, sel)
        if not status.ok:
            return HedgeSolution(status=status, wall_time_s=time.perf_counter() - start, stages=n,
                                 variables=variables)
        if status != SolveStatus.optimal:
            final = SolveStatus.feasible
        value = int(round(solver.objective_value))
        if counted:
            values.append(-value if maximize else value)
        hm.model.add(expr >= value if maximize else expr <= value)
        sel = _extract(hm, solver)[0]
    assert solver is not None
    s, r, on, fail = _extract(hm, solver)
    on_w = sum(sc.weight for sc, b in zip(co.per_scenario, on, strict=True) if b)
    return HedgeSolution(status=final, selection=s, recourse=r, on=on, fail=fail, objective=tuple(values),
                         on_weight=on_w, wall_time_s=time.perf_counter() - start, stages=len(stages),
                         variables=variables)
