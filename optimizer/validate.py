"""Check a plan without the solver.

Totals are recomputed from the option table (and, optionally, from the estimators and the compliance
engine) and every constraint is tested in real numbers.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.estimator import (
    CostRequest,
    InferenceRequest,
    TrainingRequest,
    estimate_cost,
    estimate_inference,
    estimate_training,
)
from optimizer.request import InferenceWorkload, TrainingWorkload
from optimizer.selection import domestic_share, job_days, selection_cost, switching_cost
from optimizer.switching import porting_charges, resolve_switching
from optimizer.table import Option, OptionTable

_TOL = 1e-6


class ValidationResult(BaseModel):
    """Outcome of a check: ``ok`` and the list of problems found."""

    model_config = ConfigDict(frozen=True)

    ok: bool
    problems: list[str] = Field(default_factory=list)
    cost: float
    makespan_days: float | None
    switching_cost: float = Field(0.0, description="One-time porting included in cost (0 without a current stack).")
    recomputed: bool = Field(False, description="True when the estimators were re-run for every item.")


def check_selection(table: OptionTable, selection: Mapping[str, int]) -> ValidationResult:
    """Test a selection against every constraint of the request, using the table's real-valued figures."""
    req = table.request
    opts = {o.id: o for o in table.options}
    problems: list[str] = []
    for oid, units in selection.items():
        o = opts.get(oid)
        if o is None:
            problems.append(f"unknown option {oid}")
            continue
        if units < 0 or units > o.max_units:
            problems.append(f"{oid}: {units} units outside 0..{o.max_units}")
        if o.blocked:
            problems.append(f"{oid}: blocked by policy ({o.blocked})")
    chosen = {oid: n for oid, n in selection.items() if oid in opts and n}
    makespan: float | None = None
    for w in req.workloads:
        mine = [opts[i] for i in chosen if opts[i].workload == w.name]
        if isinstance(w, TrainingWorkload):
            skus = [o.sku for o in mine]
            if not mine:
                problems.append(f"training job {w.name} has no pool")
                continue
            if len(mine) > 1 and not req.allow_mixed_pools:
                problems.append(f"training job {w.name} uses {len(mine)} pools but mixed pools are not allowed")
            if len(set(skus)) != len(skus):
                problems.append(f"training job {w.name} uses two sizes of the same SKU")
            days = job_days(chosen, table, w)
            if days is not None:
                makespan = days if makespan is None else max(makespan, days)
                limit = table.request.run_deadline(w)
                if limit is not None and days > limit * (1 + _TOL):
                    problems.append(f"{w.name}: {days:.2f} days exceeds the {limit:g} days left before the deadline")
        else:
            assert isinstance(w, InferenceWorkload)
            cap = sum((opts[i].capacity_rps or 0) * n for i, n in chosen.items() if opts[i].workload == w.name)
            if cap < w.requests_per_s * (1 - _TOL):
                problems.append(f"{w.name}: capacity {cap:.1f} req/s below {w.requests_per_s:g}")
    cost = selection_cost(chosen, table)
    if req.budget and cost > req.budget.amount * (1 + _TOL):
        problems.append(f"cost {cost:,.0f} exceeds the budget {req.budget.amount:,.0f} {req.budget.currency}")
    power = sum(opts[i].power_kw * n for i, n in chosen.items())
    if req.limits.power_kw is not None and power > req.limits.power_kw * (1 + _TOL):
        problems.append(f"power {power:,.1f} kW exceeds the cap {req.limits.power_kw:,.1f} kW")
    nodes = sum(opts[i].nodes * n for i, n in chosen.items())
    if req.limits.racks is not None and nodes > req.limits.racks * req.limits.nodes_per_rack:
        problems.append(f"{nodes} nodes exceed {req.limits.racks} racks × {req.limits.nodes_per_rack}")
    for sku, limit in table.supply.items():
        used = sum(opts[i].accelerators * n for i, n in chosen.items() if opts[i].sku == sku)
        if used > limit:
            problems.append(f"{used} × {sku} exceeds the supply limit {limit}")
    dom, total = domestic_share(chosen, table)
    share = req.policy.min_domestic_share
    if share > 0 and total and dom < share * total * (1 - _TOL):
        problems.append(f"domestic share {dom / total:.1%} below the minimum {share:.0%}")
    cap = req.policy.max_vendor_share
    if cap < 1 and total:
        per: dict[str, int] = {}
        for i, n in chosen.items():
            per[opts[i].vendor] = per.get(opts[i].vendor, 0) + opts[i].accelerators * n
        for vendor, count in per.items():
            if count > cap * total * (1 + _TOL):
                problems.append(f"vendor {vendor} has {count / total:.1%} of accelerators, above {cap:.0%}")
    return ValidationResult(ok=not problems, problems=problems, cost=cost, makespan_days=makespan,
                            switching_cost=switching_cost(chosen, table))


def revalidate(catalog: Catalog, engine: ComplianceEngine, table: OptionTable,
               selection: Mapping[str, int]) -> ValidationResult:
    """Re-run compliance, estimators and cost model for every chosen item and compare with the table.

    Then every constraint is checked as in :func:`check_selection`.
    """
    req = table.request
    base = check_selection(table, selection)
    problems = list(base.problems)
    opts = {o.id: o for o in table.options}
    buyer = req.buyer.as_buyer()
    workloads = {w.name: w for w in req.workloads}
    # The switching terms are resolved again from the catalog and the request, not taken from the table.
    switching = resolve_switching(catalog, table.skus, req, req.report_currency)
    porting = sum(c.cost for c in porting_charges(switching, opts, selection))
    if abs(porting - base.switching_cost) > max(1.0, 1e-6 * porting):
        problems.append(f"recomputed switching cost {porting:,.0f} differs from {base.switching_cost:,.0f}")
    for oid, units in selection.items():
        if not units or oid not in opts:
            continue
        o = opts[oid]
        verdict = engine.check(o.sku, buyer)
        decision = engine.decide(verdict, req.policy)
        if not decision.admissible:
            problems.append(f"{o.sku}: not admissible on re-check ({decision.reason})")
        fee = verdict.fee_fraction
        cost = estimate_cost(catalog, CostRequest(
            accelerator=o.sku, accelerators=o.accelerators, currency=req.report_currency,
            horizon_years=req.horizon_years, fee_fraction=fee,
            fabric=table.skus[o.sku].fabric if o.kind == "training" and o.nodes > 1 else None,
            risk_premium=decision.premium,
        ))
        if abs(cost.total.base - o.cost) > max(1.0, 1e-6 * o.cost):
            problems.append(f"{oid}: recomputed cost {cost.total.base:,.0f} differs from {o.cost:,.0f}")
        w = workloads[o.workload]
        if isinstance(w, TrainingWorkload):
            est = estimate_training(catalog, TrainingRequest(
                params=w.params, active_params=w.active_params, tokens=w.tokens, accelerator=o.sku,
                count=o.accelerators, precision=w.precision, seq_len=w.seq_len, fabric=table.skus[o.sku].fabric,
                buyer_country=req.buyer.country))
            days = est.wall_clock_days
            if days is not None and switching is not None:
                days = switching.ramp(o.sku, days)  # the first months on another stack run slower
            if days is None or abs(days - (o.days or 0)) > 1e-6 * (o.days or 1):
                problems.append(f"{oid}: recomputed time {days} differs from {o.days}")
        else:
            inf = estimate_inference(catalog, InferenceRequest(
                params=w.params, active_params=w.active_params, accelerator=o.sku, precision=w.precision,
                prompt_tokens=w.prompt_tokens, output_tokens=w.output_tokens, requests_per_s=w.requests_per_s,
                ttft_s=w.ttft_s, tpot_s=w.tpot_s))
            if inf.status != "ok":
                problems.append(f"{oid}: serving estimate no longer meets the latency limits")
    return ValidationResult(ok=not problems, problems=problems, cost=base.cost, makespan_days=base.makespan_days,
                            switching_cost=porting, recomputed=True)


def option_label(o: Option) -> str:
    """Short human label of an option."""
    return f"{o.workload}: {o.nodes} × {o.sku} node(s)"
