"""Solve the purchase model; a solve always returns data, never raises on infeasibility."""

from __future__ import annotations

import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from optimizer.cancel import current_control
from optimizer.cpsat import cp_model
from optimizer.model.builder import PurchaseModel
from optimizer.model.objectives import ModelObjective
from optimizer.request import TrainingWorkload
from optimizer.selection import job_days, selection_cost
from optimizer.table import OptionTable


class SolveStatus(StrEnum):
    """Every CP-SAT outcome, as data."""

    optimal = "optimal"
    feasible = "feasible"
    infeasible = "infeasible"
    model_invalid = "model_invalid"
    unknown = "unknown"

    @property
    def ok(self) -> bool:
        """A solution is available."""
        return self in (SolveStatus.optimal, SolveStatus.feasible)


CPSAT_PARAMETERS: dict[str, object] = {"linearization_level": 2}
"""Extra CP-SAT parameters for every solve. Linearising the enforced and product constraints helps the
ratio-style constraints (domestic share, vendor caps): a 5-workload portfolio with a domestic share solved
about 9× faster and proved optimality (bench/results/optimizer.md)."""

_STATUS = {
    cp_model.OPTIMAL: SolveStatus.optimal,
    cp_model.FEASIBLE: SolveStatus.feasible,
    cp_model.INFEASIBLE: SolveStatus.infeasible,
    cp_model.MODEL_INVALID: SolveStatus.model_invalid,
    cp_model.UNKNOWN: SolveStatus.unknown,
}


@dataclass(frozen=True)
class SolveResult:
    """Status, the selection (option id → units), and the plan's cost and makespan in real units."""

    status: SolveStatus
    selection: dict[str, int] = field(default_factory=dict)
    objective: float | None = None
    best_bound: float | None = None
    wall_time_s: float = 0.0
    cost: float | None = None
    makespan_days: float | None = None
    stages: int = 0


def makespan_of(selection: dict[str, int], table: OptionTable) -> float | None:
    """Longest training job of a selection, in days (None without training jobs)."""
    days = [job_days(selection, table, w) for w in table.request.workloads if isinstance(w, TrainingWorkload)]
    known = [d for d in days if d is not None]
    return max(known) if known else None


def _run(pm: PurchaseModel, *, time_limit_s: float, num_workers: int, seed: int,
         hint: dict[str, int] | None) -> tuple[SolveStatus, cp_model.CpSolver]:
    if hint:
        pm.model.clear_hints()  # type: ignore[no-untyped-call]
        for oid, var in pm.vars.count.items():
            pm.model.add_hint(var, hint.get(oid, 0))
    control = current_control()  # the request's solver budget and cancellation (optimizer/cancel.py)
    if control is not None:
        time_limit_s = control.time_limit(time_limit_s)
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = time_limit_s
    solver.parameters.num_workers = num_workers
    solver.parameters.random_seed = seed
    solver.parameters.log_search_progress = False  # keep stdout clean
    for key, value in CPSAT_PARAMETERS.items():
        setattr(solver.parameters, key, value)
    if control is None:
        return _STATUS.get(solver.solve(pm.model), SolveStatus.unknown), solver
    if time_limit_s <= 0:
        return SolveStatus.unknown, solver  # the request's solver budget is spent
    with control.running(solver):
        status = _STATUS.get(solver.solve(pm.model), SolveStatus.unknown)
    return status, solver


def solve(
    table: OptionTable,
    *,
    objective: ModelObjective,
    time_limit_s: float = 5.0,
    num_workers: int = 1,
    seed: int = 0,
    disabled: Iterable[str] = (),
    nogoods: Sequence[frozenset[tuple[str, str]]] = (),
    makespan_cap_days: float | None = None,
    lexicographic: bool = True,
) -> SolveResult:
    """Solve with a lexicographic tie-break: min_cost then fastest; min_time then cheapest.

    Args:
        table: the option table.
        objective: primary objective.
        time_limit_s: per-stage CP-SAT time limit.
        num_workers: CP-SAT workers (1 keeps small solves fast and deterministic).
        seed: random seed.
        disabled: constraint families to leave out (relaxations).
        nogoods: (workload, SKU) sets that may not be reused (distinct alternatives).
        makespan_cap_days: upper bound on the makespan (Pareto sweeps).
        lexicographic: run the tie-break stage.

    Returns:
        A :class:`SolveResult`; ``status`` says whether a plan exists.
    """
    start = time.perf_counter()
    pm = PurchaseModel(table, objective=objective, disabled=disabled, nogoods=nogoods)
    if makespan_cap_days is not None and pm.ctx.makespan is not None:
        pm.model.add(pm.ctx.makespan <= int(makespan_cap_days * 100 + 1e-9))
    status, solver = _run(pm, time_limit_s=time_limit_s, num_workers=num_workers, seed=seed, hint=None)
    if not status.ok:
        return SolveResult(status=status, wall_time_s=time.perf_counter() - start, stages=1)
    selection = pm.vars.extract(solver)
    primary = int(round(solver.objective_value))
    bound = solver.best_objective_bound
    stages = 1
    second: ModelObjective | None = None
    if lexicographic:
        second = "min_time" if objective == "min_cost" else ("min_cost" if objective == "min_time" else None)
        if second == "min_time" and pm.ctx.makespan is None:
            second = None
    if second is not None:
        pm.cap(objective, primary)
        pm.reobjective(second)
        st2, solver2 = _run(pm, time_limit_s=time_limit_s, num_workers=num_workers, seed=seed, hint=selection)
        stages = 2
        if st2.ok:
            selection = pm.vars.extract(solver2)
            status = SolveStatus.optimal if (status == SolveStatus.optimal and st2 == SolveStatus.optimal) else (
                SolveStatus.feasible)
    return SolveResult(
        status=status, selection=selection, objective=float(primary), best_bound=float(bound),
        wall_time_s=time.perf_counter() - start, cost=selection_cost(selection, table),
        makespan_days=makespan_of(selection, table), stages=stages,
    )
