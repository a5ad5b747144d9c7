"""The purchase model as a mixed-integer program, solved through OR-Tools' linear solver wrapper.

A cross-check and benchmark baseline for the CP-SAT model (``optimizer/model/builder.py``): the same
formulation for homogeneous training pools (mixed pools are not modelled here), the same integer scaling
(:func:`optimizer.model.variables.to_int`), the same lexicographic tie-break as :func:`optimizer.solve.solve`,
and the same :class:`optimizer.solve.SolveResult`, so objectives compare exactly.

Formulation (numbering as in builder.py):
  x_o ∈ {0,1} per training pool option, n_o ∈ {0..u_o} per inference option (bounds fixed to 0 when the
  buyer policy blocks the option: family 7), makespan M ∈ [0, 365000] (0.01 day) when a training job exists.
  1. Σ_{o∈O_w} x_o = 1 (w ∈ T);  Σ cap_o·n_o ≥ ⌈1000·rate_w⌉ (w ∈ I).
  2. Σ days_o·x_o ≤ ⌊D_w/0.01⌋ and ≤ M.   3. Σ cost ≤ ⌊B/1000⌋.   4. Σ power ≤ ⌊P/0.1⌋.
  5. Σ nodes ≤ racks·nodes_per_rack.   6. Σ accelerators of s ≤ supply_s.
  8. 1000·Σ domestic accelerators ≥ ⌈1000·d⌉·Σ accelerators.   9. 1000·Σ_v ≤ ⌊1000·m⌋·Σ (every vendor).

MIP solvers work in floating point with tolerances, so the solution is rounded to integers and re-checked
against every constraint in exact integer arithmetic; the reported objective is recomputed from the rounded
selection. The relative MIP gap is set to 0 (OR-Tools' default is 1e-4, which would stop short of the optimum);
HiGHS may also stop at an absolute gap of 0.5, which is exact because every objective value is an integer.
Solver output is suppressed: SCIP through ``SuppressOutput``; HiGHS also needs ``output_flag=false`` in its
parameter string, or it prints its banner on stdout.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from typing import Any, Literal

from ortools.linear_solver import pywraplp

from optimizer.errors import InvalidInputError
from optimizer.model.constraints import selection_cost
from optimizer.model.objectives import ModelObjective
from optimizer.model.variables import IntOption, to_int
from optimizer.request import InferenceWorkload, TrainingWorkload
from optimizer.solve import SolveResult, SolveStatus, makespan_of
from optimizer.table import OptionTable
from optimizer.units import MONEY_UNIT, POWER_UNIT_KW, TIME_UNIT_DAYS

MipSolver = Literal["SCIP", "HIGHS"]
MIP_SOLVERS: tuple[MipSolver, ...] = ("SCIP", "HIGHS")

_MAKESPAN_MAX = 3650 * 100
"""Upper bound of the makespan variable, as in the CP-SAT model (options slower than this cannot be chosen)."""

_PARAMS: dict[str, str] = {
    # HiGHS ignores SuppressOutput for its banner and SetRelativeMipGap altogether; both go in its own options.
    # (OR-Tools' HiGHS interface always reports False for this call, but the string is passed on at solve time.)
    "HIGHS": "output_flag=false\nlog_to_console=false\nmip_rel_gap=0\nmip_abs_gap=0.5",
    "SCIP": "",
}

_STATUS = {
    pywraplp.Solver.OPTIMAL: SolveStatus.optimal,
    pywraplp.Solver.FEASIBLE: SolveStatus.feasible,
    pywraplp.Solver.INFEASIBLE: SolveStatus.infeasible,
    pywraplp.Solver.MODEL_INVALID: SolveStatus.model_invalid,
}


def available_mip_solvers() -> list[MipSolver]:
    """MIP back-ends linked into this OR-Tools build (SCIP ships with the wheels; HiGHS in recent ones)."""
    out: list[MipSolver] = []
    for name in MIP_SOLVERS:
        if pywraplp.Solver.CreateSolver(name) is not None:
            out.append(name)
    return out


class _Mip:
    """The linear model: variables per option, constraint families, objective expressions."""

    def __init__(self, table: OptionTable, solver_name: MipSolver, time_limit_s: float) -> None:
        solver = pywraplp.Solver.CreateSolver(solver_name)
        if solver is None:
            raise InvalidInputError(f"MIP solver {solver_name} is not available in this OR-Tools build")
        self.solver: Any = solver
        self.solver.SuppressOutput()
        if _PARAMS[solver_name]:
            self.solver.SetSolverSpecificParametersAsString(_PARAMS[solver_name])
        self.solver.SetNumThreads(1)
        self.solver.SetTimeLimit(max(1, int(time_limit_s * 1000)))
        self.table = table
        self.ints: dict[str, IntOption] = {o.id: to_int(o) for o in table.options}
        self.x: dict[str, Any] = {}
        for o in table.options:
            upper = 0 if o.blocked is not None else (1 if o.kind == "training" else o.max_units)  # 7. policy
            self.x[o.id] = self.solver.IntVar(0, upper, f"count[{o.id}]")
        has_training = any(isinstance(w, TrainingWorkload) for w in table.request.workloads)
        self.makespan: Any = self.solver.NumVar(0, _MAKESPAN_MAX, "makespan") if has_training else None
        self._build()

    # ------------------------------------------------------------------ helpers
    def _row(self, terms: Sequence[tuple[str, int]], lo: float, hi: float) -> Any:
        ct = self.solver.Constraint(lo, hi)
        for oid, coef in terms:
            if coef:
                ct.SetCoefficient(self.x[oid], coef)
        return ct

    def _acc(self, pred: Any = None) -> list[tuple[str, int]]:
        return [(o.id, o.accelerators) for o in self.table.options if pred is None or pred(o)]

    def expr_terms(self, kind: ModelObjective) -> list[tuple[Any, float]]:
        """Objective (or cap) as (variable, coefficient) pairs."""
        opts = self.table.options
        if kind == "min_time" and self.makespan is not None:
            return [(self.makespan, 1.0)]
        if kind in ("min_cost", "min_time"):
            return [(self.x[o.id], float(self.ints[o.id].cost)) for o in opts]
        if kind == "min_power":
            return [(self.x[o.id], float(self.ints[o.id].power)) for o in opts]
        return [(self.x[o.id], float(o.nodes)) for o in opts]

    def set_objective(self, kind: ModelObjective) -> None:
        """Minimise the given objective."""
        obj = self.solver.Objective()
        obj.Clear()
        for var, coef in self.expr_terms(kind):
            obj.SetCoefficient(var, coef)
        obj.SetMinimization()

    def cap(self, kind: ModelObjective, value: int) -> None:
        """``objective(kind) ≤ value`` (lexicographic step)."""
        ct = self.solver.Constraint(-self.solver.infinity(), value)
        for var, coef in self.expr_terms(kind):
            ct.SetCoefficient(var, coef)

    # ------------------------------------------------------------------ constraint families
    def _build(self) -> None:
        t = self.table
        req = t.request
        inf = self.solver.infinity()
        for w in req.workloads:
            opts = t.for_workload(w.name)
            if isinstance(w, TrainingWorkload):
                self._row([(o.id, 1) for o in opts], 1, 1)  # 1. one pool
                days = [(o.id, self.ints[o.id].days or 0) for o in opts]
                if (limit := req.run_deadline(w)) is not None:  # 2. deadline
                    self._row(days, -inf, math.floor(limit / TIME_UNIT_DAYS + 1e-9))
                if self.makespan is not None:  # 2. makespan ≥ job time
                    ct = self._row([(oid, -d) for oid, d in days], 0, inf)
                    ct.SetCoefficient(self.makespan, 1)
            else:
                assert isinstance(w, InferenceWorkload)
                need = math.ceil(w.requests_per_s * 1000.0)
                self._row([(o.id, self.ints[o.id].capacity or 0) for o in opts], need, inf)  # 1. capacity
        if req.budget is not None:  # 3.
            self._row([(i, v.cost) for i, v in self.ints.items()], -inf,
                      math.floor(req.budget.amount / MONEY_UNIT + 1e-9))
        if req.limits.power_kw is not None:  # 4.
            self._row([(i, v.power) for i, v in self.ints.items()], -inf,
                      math.floor(req.limits.power_kw / POWER_UNIT_KW + 1e-9))
        if req.limits.racks is not None:  # 5.
            self._row([(o.id, o.nodes) for o in t.options], -inf, req.limits.racks * req.limits.nodes_per_rack)
        for sku, limit in t.supply.items():  # 6.
            self._row(self._acc(lambda o, s=sku: o.sku == s), -inf, limit)
        share = req.policy.min_domestic_share
        if share > 0:  # 8. 1000·dom − pct·all ≥ 0
            pct = math.ceil(share * 1000 - 1e-9)
            self._row([(o.id, (1000 if o.domestic else 0) * o.accelerators - pct * o.accelerators)
                       for o in t.options], 0, inf)
        cap = req.policy.max_vendor_share
        if cap < 1:  # 9. 1000·vendor − permille·all ≤ 0
            permille = math.floor(cap * 1000 + 1e-9)
            for vendor in sorted({o.vendor for o in t.options}):
                self._row([(o.id, (1000 if o.vendor == vendor else 0) * o.accelerators - permille * o.accelerators)
                           for o in t.options], -inf, 0)

    # ------------------------------------------------------------------ solving
    def run(self) -> tuple[SolveStatus, dict[str, int]]:
        """Solve at a zero gap; round the solution and re-check it in integers."""
        params = pywraplp.MPSolverParameters()
        params.SetDoubleParam(pywraplp.MPSolverParameters.RELATIVE_MIP_GAP, 0.0)
        status = _STATUS.get(self.solver.Solve(params), SolveStatus.unknown)
        if not status.ok:
            return status, {}
        selection = {oid: int(round(var.solution_value())) for oid, var in self.x.items()}
        selection = {oid: n for oid, n in selection.items() if n}
        if integer_violations(self.table, selection):
            return SolveStatus.unknown, {}  # numerical trouble: the rounded point is not feasible
        return status, selection

    def best_bound(self) -> float:
        """Dual bound of the last solve."""
        return float(self.solver.Objective().BestBound())


def objective_value(table: OptionTable, selection: dict[str, int], kind: ModelObjective,
                    ints: dict[str, IntOption] | None = None) -> int:
    """Integer objective of a selection, exactly as the CP-SAT model scores it."""
    ints = ints or {o.id: to_int(o) for o in table.options}
    has_training = any(isinstance(w, TrainingWorkload) for w in table.request.workloads)
    if kind == "min_time" and has_training:
        return max((ints[i].days or 0 for i, n in selection.items() if n and ints[i].option.kind == "training"),
                   default=0)
    if kind in ("min_cost", "min_time"):
        return sum(ints[i].cost * n for i, n in selection.items())
    if kind == "min_power":
        return sum(ints[i].power * n for i, n in selection.items())
    return sum(ints[i].option.nodes * n for i, n in selection.items())


def integer_violations(table: OptionTable, selection: dict[str, int]) -> list[str]:
    """Constraint families a selection violates in the model's integer arithmetic (empty = feasible)."""
    req = table.request
    ints = {o.id: to_int(o) for o in table.options}
    opts = {o.id: o for o in table.options}
    bad: list[str] = []
    for oid, n in selection.items():
        o = opts[oid]
        if n < 0 or n > (1 if o.kind == "training" else o.max_units) or (n and o.blocked is not None):
            bad.append(f"policy/bounds[{oid}]")
    for w in req.workloads:
        mine = {i: n for i, n in selection.items() if n and opts[i].workload == w.name}
        if isinstance(w, TrainingWorkload):
            if sum(mine.values()) != 1:
                bad.append(f"coverage[{w.name}]")
                continue
            days = sum((ints[i].days or 0) * n for i, n in mine.items())
            if (limit := req.run_deadline(w)) is not None and days > math.floor(limit / TIME_UNIT_DAYS + 1e-9):
                bad.append(f"deadline[{w.name}]")
            if days > _MAKESPAN_MAX:
                bad.append(f"makespan[{w.name}]")
        elif sum((ints[i].capacity or 0) * n for i, n in mine.items()) < math.ceil(w.requests_per_s * 1000.0):
            bad.append(f"coverage[{w.name}]")
    if req.budget is not None and sum(ints[i].cost * n for i, n in selection.items()) > math.floor(
            req.budget.amount / MONEY_UNIT + 1e-9):
        bad.append("budget")
    if req.limits.power_kw is not None and sum(ints[i].power * n for i, n in selection.items()) > math.floor(
            req.limits.power_kw / POWER_UNIT_KW + 1e-9):
        bad.append("power")
    if req.limits.racks is not None and sum(opts[i].nodes * n for i, n in selection.items()) > (
            req.limits.racks * req.limits.nodes_per_rack):
        bad.append("racks")
    for sku, limit in table.supply.items():
        if sum(opts[i].accelerators * n for i, n in selection.items() if opts[i].sku == sku) > limit:
            bad.append(f"supply[{sku}]")
    total = sum(opts[i].accelerators * n for i, n in selection.items())
    share = req.policy.min_domestic_share
    if share > 0:
        dom = sum(opts[i].accelerators * n for i, n in selection.items() if opts[i].domestic)
        if 1000 * dom < math.ceil(share * 1000 - 1e-9) * total:
            bad.append("domestic_share")
    cap = req.policy.max_vendor_share
    if cap < 1:
        permille = math.floor(cap * 1000 + 1e-9)
        for vendor in sorted({o.vendor for o in table.options}):
            if 1000 * sum(opts[i].accelerators * n for i, n in selection.items() if opts[i].vendor == vendor) > (
                    permille * total):
                bad.append(f"vendor_share[{vendor}]")
    return bad


def solve_mip(
    table: OptionTable,
    *,
    objective: ModelObjective,
    time_limit_s: float = 5.0,
    solver: MipSolver = "SCIP",
    lexicographic: bool = True,
) -> SolveResult:
    """Solve the purchase model as a MIP, with the tie-break of :func:`optimizer.solve.solve`.

    Args:
        table: the option table (homogeneous training pools).
        objective: primary objective.
        time_limit_s: per-stage time limit of the MIP solver.
        solver: ``"SCIP"`` or ``"HIGHS"`` (see :func:`available_mip_solvers`).
        lexicographic: run the tie-break stage (min_cost then fastest; min_time then cheapest).

    Returns:
        A :class:`SolveResult` whose ``objective`` is in the CP-SAT model's integer units. ``status`` is
        ``model_invalid`` for a table that allows mixed pools (not modelled here) and ``unknown`` when the
        solver stops without a solution or its rounded solution fails the exact integer re-check.

    Raises:
        InvalidInputError: the named solver is not linked into this OR-Tools build.
    """
    start = time.perf_counter()
    if solver not in _PARAMS:
        raise InvalidInputError(f"unknown MIP solver {solver!r}; choose from {', '.join(MIP_SOLVERS)}")
    if table.request.allow_mixed_pools:
        return SolveResult(status=SolveStatus.model_invalid, wall_time_s=time.perf_counter() - start)
    for w in table.request.workloads:  # a workload nothing can serve: infeasible, as CP-SAT's empty clause
        if not table.for_workload(w.name):
            return SolveResult(status=SolveStatus.infeasible, wall_time_s=time.perf_counter() - start, stages=1)
    mip = _Mip(table, solver, time_limit_s)
    mip.set_objective(objective)
    status, selection = mip.run()
    if not status.ok:
        return SolveResult(status=status, wall_time_s=time.perf_counter() - start, stages=1)
    primary = objective_value(table, selection, objective, mip.ints)
    bound = mip.best_bound()
    stages = 1
    second: ModelObjective | None = None
    if lexicographic:
        second = "min_time" if objective == "min_cost" else ("min_cost" if objective == "min_time" else None)
        if second == "min_time" and mip.makespan is None:
            second = None
    if second is not None:
        mip.cap(objective, primary)
        mip.set_objective(second)
        st2, sel2 = mip.run()
        stages = 2
        if st2.ok:
            selection = sel2
            status = SolveStatus.optimal if (status == SolveStatus.optimal and st2 == SolveStatus.optimal) else (
                SolveStatus.feasible)
    return SolveResult(
        status=status, selection=selection, objective=float(primary), best_bound=bound,
        wall_time_s=time.perf_counter() - start, cost=selection_cost(selection, table),
        makespan_days=makespan_of(selection, table), stages=stages,
    )


__all__ = ["MIP_SOLVERS", "MipSolver", "available_mip_solvers", "integer_violations", "objective_value",
           "solve_mip"]
