"""The MIP formulation (SCIP / HiGHS through pywraplp) agrees with the CP-SAT model, and keeps stdout clean."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.errors import InvalidInputError
from optimizer.model.objectives import ModelObjective
from optimizer.request import PurchaseRequest
from optimizer.solve import SolveResult, SolveStatus, solve
from optimizer.table import EstimateCache, Option, OptionTable, build_table
from tests.oracles.brute import brute_force
from tests.oracles.mip import MIP_SOLVERS, available_mip_solvers, integer_violations, objective_value, solve_mip

ROOT = Path(__file__).resolve().parents[2]
SOLVERS = available_mip_solvers()


def _solver_params() -> list[Any]:
    return [pytest.param(s, marks=pytest.mark.skipif(s not in SOLVERS, reason=f"{s} not linked into this OR-Tools"))
            for s in MIP_SOLVERS]


# ------------------------------------------------------------------ synthetic tables (no estimator)
def _req(workloads: list[dict[str, Any]], **kw: Any) -> PurchaseRequest:
    data: dict[str, Any] = {"workloads": workloads, "buyer": {"country": "CN", "date": "2026-01-01"}, **kw}
    return PurchaseRequest.model_validate(data)


def _train(name: str, deadline: float | None = None) -> dict[str, Any]:
    w: dict[str, Any] = {"kind": "training", "name": name, "params": 7e9, "tokens": 1e12}
    if deadline is not None:
        w["deadline_days"] = deadline
    return w


def _serve(name: str, rate: float) -> dict[str, Any]:
    return {"kind": "inference", "name": name, "params": 7e9, "requests_per_s": rate}


def _pool(w: str, sku: str, *, cost: float, days: float, nodes: int = 1, power: float = 10.0, vendor: str = "v1",
          domestic: bool = False, blocked: str | None = None) -> Option:
    return Option(id=f"{w}:{sku}:{nodes}n", workload=w, kind="training", sku=sku, vendor=vendor, domestic=domestic,
                  nodes=nodes, accelerators=8 * nodes, max_units=1, cost=cost, cost_low=cost, cost_high=cost,
                  capex=cost, opex=0.0, hardware=cost, power_kw=power, days=days,
                  tokens_per_s=1e12 / (days * 86400), blocked=blocked)


def _node(w: str, sku: str, *, cost: float, capacity: float, max_units: int, power: float = 10.0,
          vendor: str = "v1", domestic: bool = False, blocked: str | None = None) -> Option:
    return Option(id=f"{w}:{sku}:node", workload=w, kind="inference", sku=sku, vendor=vendor, domestic=domestic,
                  nodes=1, accelerators=8, max_units=max_units, cost=cost, cost_low=cost, cost_high=cost,
                  capex=cost, opex=0.0, hardware=cost, power_kw=power, capacity_rps=capacity, blocked=blocked)


def _table(req: PurchaseRequest, options: list[Option], supply: dict[str, int] | None = None) -> OptionTable:
    return OptionTable(request=req, currency=req.report_currency, options=options, exclusions=[], skus={},
                       supply=supply or {})


def _key(table: OptionTable, r: SolveResult, objective: ModelObjective) -> tuple[int, int]:
    """(primary, secondary) integer objective of a result's selection, as brute_force scores it."""
    cost = objective_value(table, r.selection, "min_cost")
    span = objective_value(table, r.selection, "min_time") if any(o.kind == "training" for o in table.options) else 0
    return (cost, span) if objective == "min_cost" else (span, cost)


def _agree(table: OptionTable, objective: ModelObjective, solver: str) -> tuple[SolveResult, SolveResult]:
    cp = solve(table, objective=objective, time_limit_s=10)
    mip = solve_mip(table, objective=objective, time_limit_s=10, solver=solver)  # type: ignore[arg-type]
    assert mip.status == cp.status, (cp, mip)
    if cp.status.ok:
        assert cp.status == SolveStatus.optimal
        assert mip.objective == cp.objective
        assert _key(table, mip, objective) == _key(table, cp, objective)
        assert integer_violations(table, mip.selection) == []
    return cp, mip


# ------------------------------------------------------------------ one micro case per constraint family
def _family_cases() -> list[Any]:
    a = _pool("t", "a", cost=1_000_000, days=50, power=40, vendor="nv")
    b = _pool("t", "b", cost=1_500_000, days=30, nodes=2, power=20, vendor="hw", domestic=True)
    c = _pool("t", "c", cost=3_000_000, days=10, nodes=4, power=80, vendor="nv")
    opts = [a, b, c]
    t = _train("t", deadline=60)
    return [
        pytest.param(_req([t], objective="min_cost"), opts, None, "min_cost", 1_000, id="cheapest"),
        pytest.param(_req([_train("t", 40)], objective="min_cost"), opts, None, "min_cost", 1_500, id="deadline"),
        pytest.param(_req([_train("t", 5)], objective="min_cost"), opts, None, "min_cost", None,
                     id="deadline-infeasible"),
        pytest.param(_req([t], objective="min_time", budget={"amount": 2_000_000}), opts, None, "min_time", 3_000,
                     id="budget"),
        pytest.param(_req([t], objective="min_time", budget={"amount": 500_000}), opts, None, "min_time", None,
                     id="budget-infeasible"),
        pytest.param(_req([t], objective="min_cost", limits={"power_kw": 30}), opts, None, "min_cost", 1_500,
                     id="power"),
        pytest.param(_req([t], objective="min_time", limits={"racks": 1, "nodes_per_rack": 2}), opts, None,
                     "min_time", 3_000, id="racks"),
        pytest.param(_req([t], objective="min_time", budget={"amount": 9e6}), opts, {"c": 16}, "min_time", 3_000,
                     id="supply"),
        pytest.param(_req([t], objective="min_cost"),
                     [_pool("t", "a", cost=1e6, days=50, blocked="licence"), b, c], None, "min_cost", 1_500,
                     id="policy"),
        pytest.param(_req([t], objective="min_cost", policy={"min_domestic_share": 0.5}), opts, None, "min_cost",
                     1_500, id="domestic"),
        pytest.param(_req([t, _serve("s", 10)], objective="min_cost", policy={"max_vendor_share": 0.6}),
                     [*opts, _node("s", "a", cost=200_000, capacity=5, max_units=2, vendor="nv"),
                      _node("s", "b", cost=400_000, capacity=5, max_units=2, vendor="hw", domestic=True)],
                     None, "min_cost", 1_500 + 400, id="vendor-cap"),
        pytest.param(_req([t, _serve("s", 10.5)], objective="min_cost"),
                     [*opts, _node("s", "a", cost=200_000.4, capacity=3.5, max_units=3)], None, "min_cost",
                     1_000 + 3 * 201, id="capacity-rounding"),
    ]


@pytest.mark.parametrize("solver", _solver_params())
@pytest.mark.parametrize(("req", "options", "supply", "objective", "expected"), _family_cases())
def test_constraint_families_match_cp_sat(solver: str, req: PurchaseRequest, options: list[Option],
                                          supply: dict[str, int] | None, objective: ModelObjective,
                                          expected: int | None) -> None:
    table = _table(req, options, supply)
    cp, mip = _agree(table, objective, solver)
    if expected is None:
        assert mip.status == SolveStatus.infeasible
    else:
        assert mip.status == SolveStatus.optimal and mip.objective == expected


@pytest.mark.parametrize("solver", _solver_params())
def test_workload_without_options_is_infeasible(solver: str) -> None:
    table = _table(_req([_train("t", 30), _train("u", 30)], objective="min_cost"),
                   [_pool("t", "a", cost=1e6, days=10)])
    _, mip = _agree(table, "min_cost", solver)
    assert mip.status == SolveStatus.infeasible and mip.selection == {}


@pytest.mark.parametrize("solver", _solver_params())
def test_everything_blocked_is_infeasible(solver: str) -> None:
    table = _table(_req([_train("t", 30)], objective="min_cost"),
                   [_pool("t", "a", cost=1e6, days=10, blocked="prohibited by policy")])
    _, mip = _agree(table, "min_cost", solver)
    assert mip.status == SolveStatus.infeasible


def test_mixed_pools_are_not_modelled() -> None:
    table = _table(_req([_train("t", 30)], objective="min_cost", allow_mixed_pools=True),
                   [_pool("t", "a", cost=1e6, days=10)])
    assert solve_mip(table, objective="min_cost").status == SolveStatus.model_invalid


def test_unknown_solver_is_an_input_error() -> None:
    table = _table(_req([_train("t", 30)], objective="min_cost"), [_pool("t", "a", cost=1e6, days=10)])
    with pytest.raises(InvalidInputError):
        solve_mip(table, objective="min_cost", solver="GUROBI")  # type: ignore[arg-type]


def test_scip_is_available() -> None:
    assert "SCIP" in SOLVERS


# ------------------------------------------------------------------ random small tables
@st.composite
def _instances(draw: st.DrawFn) -> tuple[OptionTable, ModelObjective]:
    n_train = draw(st.integers(0, 2))
    n_serve = draw(st.integers(0 if n_train else 1, 1))
    objective: ModelObjective = draw(st.sampled_from(["min_cost", "min_time"])) if n_train else "min_cost"
    skus = draw(st.lists(st.sampled_from(["a", "b", "c", "d"]), min_size=1, max_size=3, unique=True))
    vendor = {"a": "nv", "b": "hw", "c": "nv", "d": "amd"}
    blocked = {s: draw(st.sampled_from([None, None, None, "licence"])) for s in skus}
    workloads: list[dict[str, Any]] = []
    options: list[Option] = []
    for i in range(n_train):
        name = f"t{i}"
        workloads.append(_train(name, draw(st.floats(5, 120)) if objective == "min_cost" else None))
        for s in skus:
            unit = draw(st.integers(50_000, 2_000_000)) + draw(st.floats(0, 1))
            days1 = draw(st.floats(20, 400))
            for nodes in sorted(set(draw(st.lists(st.sampled_from([1, 2, 4, 8, 16]), min_size=1, max_size=3)))):
                options.append(_pool(name, s, cost=unit * nodes, days=days1 / nodes ** 0.9, nodes=nodes,
                                     power=draw(st.floats(5, 15)) * nodes, vendor=vendor[s], domestic=s == "b",
                                     blocked=blocked[s]))
    for i in range(n_serve):
        name = f"s{i}"
        rate = draw(st.floats(1, 40))
        workloads.append(_serve(name, rate))
        for s in skus:
            cap = draw(st.floats(0.5, 20))
            options.append(_node(name, s, cost=draw(st.integers(100_000, 900_000)) + 0.5, capacity=cap,
                                 max_units=-(-int(rate * 1000) // max(1, int(cap * 1000))),
                                 power=draw(st.floats(5, 15)), vendor=vendor[s], domestic=s == "b",
                                 blocked=blocked[s]))
    kw: dict[str, Any] = {"objective": objective}
    if objective == "min_time" or draw(st.booleans()):
        kw["budget"] = {"amount": draw(st.floats(1e5, 3e7))}
    limits: dict[str, Any] = {}
    if draw(st.booleans()):
        limits["power_kw"] = draw(st.floats(10, 400))
    if draw(st.booleans()):
        limits["racks"] = draw(st.integers(1, 8))
    kw["limits"] = limits
    kw["policy"] = {"min_domestic_share": draw(st.sampled_from([0.0, 0.0, 0.25, 0.5])),
                    "max_vendor_share": draw(st.sampled_from([1.0, 1.0, 0.75]))}
    supply = {s: draw(st.integers(0, 200)) for s in skus if draw(st.integers(0, 3)) == 0}
    return _table(_req(workloads, **kw), options, supply), objective


@pytest.mark.parametrize("solver", _solver_params())
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(inst=_instances())
def test_random_tables_match_cp_sat_and_brute_force(solver: str, inst: tuple[OptionTable, ModelObjective]) -> None:
    table, objective = inst
    _, mip = _agree(table, objective, solver)
    best = brute_force(table, objective)
    if best is None:
        assert mip.status == SolveStatus.infeasible
    else:
        assert mip.status == SolveStatus.optimal
        assert _key(table, mip, objective) == best


# ------------------------------------------------------------------ real tables from the catalog
_REAL = [
    pytest.param({"workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T"}],
                  "buyer": {"country": "CN", "date": "2025-08-01"}, "budget": {"amount": "¥5000万"},
                  "objective": "min_time"}, SolveStatus.optimal, id="cn-2025-70b-min-time"),
    pytest.param({"workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T", "deadline_days": 90}],
                  "buyer": {"country": "DE", "date": "2026-02-15"}, "objective": "min_cost"}, SolveStatus.optimal,
                 id="de-70b-min-cost"),
    pytest.param({"workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T", "deadline_days": 120},
                                {"kind": "inference", "name": "serve", "params": "72B", "requests_per_s": 200}],
                  "buyer": {"country": "CN", "date": "2026-02-15"}, "budget": {"amount": "¥8亿"},
                  "policy": {"min_domestic_share": 0.5}, "objective": "min_cost"}, SolveStatus.optimal,
                 id="cn-2026-portfolio"),
    pytest.param({"workloads": [{"kind": "training", "params": "70B", "tokens": "1.4T", "deadline_days": 10}],
                  "buyer": {"country": "CN", "date": "2025-08-01"}, "budget": {"amount": "¥100万"},
                  "objective": "min_cost"}, SolveStatus.infeasible, id="impossible"),
]


@pytest.mark.slow
@pytest.mark.parametrize("solver", _solver_params())
@pytest.mark.parametrize(("data", "status"), _REAL)
def test_real_tables_match_cp_sat(catalog: Catalog, engine: ComplianceEngine, solver: str,
                                  data: dict[str, Any], status: SolveStatus) -> None:
    req = PurchaseRequest.model_validate(data)
    table = build_table(catalog, engine, req, EstimateCache())
    assert table.options
    _, mip = _agree(table, req.resolved_objective, solver)
    assert mip.status == status
    assert bool(mip.selection) == status.ok


# ------------------------------------------------------------------ stdout stays clean
def test_solver_output_never_reaches_stdout() -> None:
    code = textwrap.dedent("""
        import sys
        from tests.oracles.mip import available_mip_solvers, solve_mip
        from optimizer.request import PurchaseRequest
        from optimizer.table import Option, OptionTable

        req = PurchaseRequest.model_validate({
            "workloads": [{"kind": "training", "name": "t", "params": 7e9, "tokens": 1e12, "deadline_days": 60},
                          {"kind": "inference", "name": "s", "params": 7e9, "requests_per_s": 10}],
            "buyer": {"country": "CN", "date": "2026-01-01"}, "objective": "min_cost"})
        def opt(i, w, kind, cost, **kw):
            return Option(id=i, workload=w, kind=kind, sku=i, vendor="v", domestic=False, nodes=1, accelerators=8,
                          cost=cost, cost_low=cost, cost_high=cost, capex=cost, opex=0.0, hardware=cost,
                          power_kw=10.0, **kw)
        options = [opt("a", "t", "training", 1e6, max_units=1, days=50.0, tokens_per_s=1e5),
                   opt("b", "t", "training", 2e6, max_units=1, days=20.0, tokens_per_s=2e5),
                   opt("c", "s", "inference", 3e5, max_units=4, capacity_rps=3.0)]
        table = OptionTable(request=req, currency="CNY", options=options, exclusions=[], skus={})
        solvers = available_mip_solvers()
        assert "SCIP" in solvers, solvers
        for name in solvers:
            for objective in ("min_cost", "min_time"):
                r = solve_mip(table, objective=objective, solver=name)
                assert r.status.value == "optimal", (name, r)
        print("solved with", ", ".join(solvers), file=sys.stderr)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert "solved with SCIP" in proc.stderr
