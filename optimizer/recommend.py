"""Recommend a purchase: build the option table, solve, explain, validate.

The explanation has the considered options, binding constraints, distinct alternatives and a Pareto
frontier; an infeasible request gets the smallest relaxation of each constraint instead.
"""

from __future__ import annotations

import math

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.model.objectives import ModelObjective
from optimizer.packs import data_currency
from optimizer.plan import (
    Alternative,
    AlternativeItem,
    Citation,
    ConsideredOption,
    Exclusion,
    ParetoPoint,
    PlanItem,
    PlanSwitching,
    PurchasePlan,
    Relaxation,
    SolverInfo,
)
from optimizer.reasons import Why
from optimizer.relax import relaxations
from optimizer.request import PurchaseRequest, TrainingWorkload
from optimizer.risk.report import SwitchingCharge, SwitchingTerm
from optimizer.selection import domestic_share
from optimizer.solve import SolveResult, SolveStatus, solve
from optimizer.switching import porting_charges
from optimizer.table import EstimateCache, Option, OptionTable, build_table
from optimizer.units import meets_deadline
from optimizer.validate import revalidate

_BINDING_SLACK = 0.02


def recommend(
    catalog: Catalog,
    engine: ComplianceEngine,
    request: PurchaseRequest,
    *,
    cache: EstimateCache | None = None,
    time_limit_s: float = 5.0,
    num_workers: int = 1,
    table: OptionTable | None = None,
    pareto_points: int = 15,
    max_break_even_parts: int = 8,
) -> PurchasePlan:
    """Choose a purchase plan for ``request`` and explain it.

    Raises:
        UnknownSkuError, UnknownCountryError, InvalidInputError: bad input (a solve itself never raises).
        WorkCancelledError: the work was cancelled through its :class:`optimizer.cancel.WorkControl`.
    """
    table = table or build_table(catalog, engine, request, cache)
    objective: ModelObjective = request.resolved_objective
    kw = {"time_limit_s": time_limit_s, "num_workers": num_workers}
    result = solve(table, objective=objective, **kw)  # type: ignore[arg-type]
    excluded = [Exclusion(sku=e.sku, reason=e.reason, category=e.category, workload=e.workload, why=e.why)
                for e in table.exclusions]
    info = SolverInfo(status=result.status.value, wall_time_ms=result.wall_time_s * 1000, stages=result.stages,
                      options=len(table.options))
    warnings = list(dict.fromkeys(table.notes))
    if not result.status.ok:
        relax = (relaxations(catalog, engine, table, objective, cache=cache, time_limit_s=time_limit_s,
                             num_workers=num_workers)
                 if result.status == SolveStatus.infeasible else [])
        failed = PurchasePlan(
            status=result.status.value, objective=objective, currency=table.currency,
            message=_infeasible_message(result, relax), considered=considered(table, None),
            excluded=excluded, relaxations=relax, citations=_citations(catalog, table, {}), solver=info,
            budget=request.budget.amount if request.budget else None, warnings=warnings,
        )
        return _with_data_and_break_even(catalog, engine, table, failed, objective, cache=cache,
                                         time_limit_s=time_limit_s, num_workers=num_workers, max_parts=0)
    sel = result.selection
    items = _items(table, sel)
    validation = revalidate(catalog, engine, table, sel)
    dom, total = domestic_share(sel, table)
    alts = alternatives(table, objective, result, request.alternatives, **kw)
    pareto = (pareto_front(table, max_points=pareto_points, time_limit_s=time_limit_s, num_workers=num_workers)
              if request.pareto else [])
    for it in items:
        sku = table.skus[it.sku]
        if sku.fabric_note and it.nodes > 1:
            warnings.append(sku.fabric_note)
        for w in sku.compliance.warnings:
            if w.severity != "info":
                warnings.append(f"{it.sku}: {w.text}")
    warnings += _cost_line_notes(catalog, table, items)
    switching = switching_block(table, sel)
    porting = switching.cost if switching is not None else 0.0
    plan = PurchasePlan(
        status=result.status.value, objective=objective, currency=table.currency,
        message=_summary(table, items, result), items=items,
        capex=sum(i.capex for i in items), opex=sum(i.opex for i in items),
        total_cost=sum(i.total_cost for i in items) + porting,
        total_cost_low=sum(i.total_cost_low for i in items) + porting,
        total_cost_high=sum(i.total_cost_high for i in items) + porting, time_days=result.makespan_days,
        network_cost=sum(i.network for i in items), hosting_cost=sum(i.hosting for i in items),
        switching_cost=None if switching is None else porting, switching=switching,
        lead_time_days=request.lead_time_days,
        power_kw=sum(i.power_kw for i in items), nodes=sum(i.nodes for i in items),
        accelerators=sum(i.accelerators for i in items), domestic_share=(dom / total) if total else None,
        budget=request.budget.amount if request.budget else None,
        binding_constraints=binding(table, objective, result, **kw), considered=considered(table, sel),
        alternatives=alts, excluded=excluded, pareto=pareto, citations=_citations(catalog, table, sel),
        warnings=list(dict.fromkeys(warnings)), validation=validation, solver=info,
    )
    return _with_data_and_break_even(catalog, engine, table, plan, objective, cache=cache, time_limit_s=time_limit_s,
                                     num_workers=num_workers, max_parts=max_break_even_parts)


def _with_data_and_break_even(catalog: Catalog, engine: ComplianceEngine, table: OptionTable, plan: PurchasePlan,
                              objective: ModelObjective, *, cache: EstimateCache | None, time_limit_s: float,
                              num_workers: int, max_parts: int) -> PurchasePlan:
    """The plan with the as-of dates of the data it used and the break-even prices of unpriced admissible parts."""
    from optimizer.breakeven import break_even_prices

    data = data_currency([*engine.packs, *catalog.packs], table.request.buyer.date)
    be = (break_even_prices(catalog, engine, table, plan, objective, cache=cache, max_parts=max_parts,
                            time_limit_s=time_limit_s, num_workers=num_workers)
          if table.request.break_even_prices and plan.items else [])
    warnings = list(plan.warnings)
    screening = next((info.compliance.screening for info in table.skus.values()), None)
    if screening is not None and screening.status in ("listed", "affiliate", "possible_match"):
        warnings.append(f"entity screening: {screening.text}")
    return plan.model_copy(update={"data": data, "break_even": be, "warnings": warnings, "screening": screening})


def _cost_line_notes(catalog: Catalog, table: OptionTable, items: list[PlanItem]) -> list[str]:
    """Say how the network and hosting lines in the totals were priced (grade A = assumption)."""
    notes = []
    for fabric in sorted({i.fabric for i in items if i.fabric}):
        p = catalog.networks[fabric].price_per_node
        if p is None:
            notes.append(f"{catalog.networks[fabric].name}: no network price; network cost is not included")
        elif p.grade in ("A", "W"):
            kind = "an assumption" if p.grade == "A" else "weakly sourced"
            notes.append(f"network cost ({catalog.networks[fabric].name}) is {kind} (grade {p.grade}): "
                         f"{p.low:,.0f}–{p.high:,.0f} {p.currency} per node")
    hm = catalog.cost_assumptions.hosting_maintenance_fraction_per_year
    if hm is None or hm.value is None:
        notes.append("hosting/maintenance is not included (no figure)")
    elif hm.grade in ("A", "W"):
        notes.append(f"hosting/maintenance is an assumption (grade {hm.grade}): {hm.value:.0%} of the hardware price "
                     f"per year ({(hm.lo or hm.value):.0%}–{(hm.hi or hm.value):.0%})")
    return notes


def _opt(table: OptionTable, oid: str) -> Option:
    return next(o for o in table.options if o.id == oid)


def _items(table: OptionTable, sel: dict[str, int]) -> list[PlanItem]:
    items = []
    for oid, units in sel.items():
        o = _opt(table, oid)
        info = table.skus[o.sku]
        c = info.compliance
        items.append(PlanItem(
            workload=o.workload, kind=o.kind, option_id=o.id, units=units, sku=o.sku, name=info.name,
            vendor=o.vendor, domestic=o.domestic,
            nodes=o.nodes * units, accelerators=o.accelerators * units, fabric=o.fabric,
            capex=o.capex * units, opex=o.opex * units, total_cost=o.cost * units,
            total_cost_low=o.cost_low * units, total_cost_high=o.cost_high * units, time_days=o.days,
            capacity_rps=None if o.capacity_rps is None else o.capacity_rps * units, power_kw=o.power_kw * units,
            network=o.network * units, hosting=o.hosting * units, hardware=o.hardware * units,
            plan=o.plan, mfu=o.mfu, verdict=c.verdict, license_outlook=c.license_outlook,
            risk_premium=info.decision.premium, fee_fraction=c.fee_fraction, serving=o.serving,
            ramp_days_added=o.ramp_days_added,
        ))
    items.sort(key=lambda i: (i.workload, i.sku))
    return items


def switching_block(table: OptionTable, sel: dict[str, int]) -> PlanSwitching | None:
    """The plan's switching line: porting per (workload, family) used, and the terms of every other family on offer.

    None when the request gives no current stack.
    """
    sw = table.switching
    if sw is None:
        return None
    opts = {o.id: o for o in table.options}
    charges = []
    for c in porting_charges(sw, opts, sel):
        ramp = max((opts[i].ramp_days_added for i, n in sel.items() if n and opts[i].workload == c.workload
                    and sw.target(opts[i].sku) == c.target), default=0.0)
        charges.append(SwitchingCharge(workload=c.workload, target=c.target, porting_cost=c.cost,
                                       ramp_days_added=ramp if c.kind == "training" else None))
    offered = {sw.target(o.sku) for o in table.options} - {None}
    terms = [SwitchingTerm(target=t.target, training_person_months=t.training_person_months,
                           inference_person_months=t.inference_person_months, person_month_cost=t.person_month_cost,
                           ramp_days=t.ramp_days, ramp_efficiency=t.ramp_efficiency, grade=t.grade, basis=t.basis,
                           sources=list(t.sources)) for f, t in sw.terms.items() if f in offered]
    return PlanSwitching(current_stack=sw.current, cost=sum(c.porting_cost for c in charges), charges=charges,
                         terms=terms, person_month_cost=sw.person_month_cost,
                         person_month_basis=sw.person_month_basis)


def _summary(table: OptionTable, items: list[PlanItem], result: SolveResult) -> str:
    cur = table.currency
    parts = [f"{i.accelerators} × {i.sku} for {i.workload}" for i in items]
    # plain figures with the currency code: the notation a person reads (¥4,820万, $7M) is the presenters' job
    text = "; ".join(parts) + f": total {result.cost or 0:,.0f} {cur}"
    if result.makespan_days is not None:
        text += f", longest training {result.makespan_days:.1f} days"
    return text


# ---------------------------------------------------------------------- considered options
def considered(table: OptionTable, sel: dict[str, int] | None) -> list[ConsideredOption]:
    """Per workload and SKU: the best option on its own terms, status and deltas vs the chosen one."""
    req = table.request
    out: list[ConsideredOption] = []
    budget = req.budget.amount if req.budget else math.inf
    chosen_ids = set(sel or {})
    for w in req.workloads:
        opts = table.for_workload(w.name)
        chosen = [o for o in opts if o.id in chosen_ids]
        ref_cost = (sum(o.cost * (sel or {}).get(o.id, 0) for o in chosen)
                    + sum(c.cost for c in porting_charges(table.switching, {o.id: o for o in chosen}, sel or {}))
                    if chosen else None)
        ref_days = max((o.days for o in chosen if o.days is not None), default=None) if chosen else None
        rows: list[ConsideredOption] = []
        for sku in dict.fromkeys(o.sku for o in opts):
            mine = [o for o in opts if o.sku == sku]
            info = table.skus[sku]
            port = table.switching.charge(mine[0].kind, sku) if table.switching is not None else 0.0
            if isinstance(w, TrainingWorkload):
                best, status = _best_training(mine, req.run_deadline(w), budget - port, req.resolved_objective)
                cost, days, cap, acc = best.cost + port, best.days, None, best.accelerators
            else:
                o = mine[0]
                units = math.ceil(w.requests_per_s / (o.capacity_rps or 1))
                cost = o.cost * units + port
                days, cap, acc = None, (o.capacity_rps or 0) * units, o.accelerators * units
                status = "feasible" if cost <= budget else "over budget"
            reason = ""
            why: Why | None = None
            if mine[0].blocked:
                status, reason, why = "blocked by policy", mine[0].blocked, info.blocked_why
            if any(o.id in chosen_ids for o in mine):
                status = "chosen"
            if not reason:
                c = info.compliance
                reason = f"{c.verdict}" + (f" ({c.license_outlook})" if c.license_outlook else "")
                premium = f"{info.decision.premium:.0%}" if info.decision.premium else ""
                fees = f"{c.fee_fraction:.0%}" if c.fee_fraction else ""
                if premium:
                    reason += f", risk premium {premium}"
                if fees:
                    reason += f", fees {fees}"
                why = Why(code="verdict", args={"verdict": c.verdict, "outlook": c.license_outlook or "",
                                                "premium": premium, "fees": fees})
            rows.append(ConsideredOption(
                workload=w.name, sku=sku, name=info.name, status=status, accelerators=acc,  # type: ignore[arg-type]
                total_cost=cost, time_days=days, capacity_rps=cap,
                delta_cost=None if ref_cost is None else cost - ref_cost,
                delta_days=None if (ref_days is None or days is None) else days - ref_days, reason=reason, why=why,
            ))
        order = {"chosen": 0, "feasible": 1, "misses deadline": 2, "over budget": 3, "blocked by policy": 4}
        key_time = req.resolved_objective == "min_time"
        rows.sort(key=lambda r: (order.get(r.status, 5), (r.time_days or 0) if key_time else (r.total_cost or 0)))
        out.extend(rows)
        for e in table.exclusions:
            if e.workload in (None, w.name) and not any(r.sku == e.sku for r in rows):
                out.append(ConsideredOption(workload=w.name, sku=e.sku, name=table.skus[e.sku].name
                                            if e.sku in table.skus else e.sku, status="excluded", reason=e.reason,
                                            why=e.why))
    return out


def _best_training(opts: list[Option], deadline: float | None, budget: float, objective: str
                   ) -> tuple[Option, str]:
    if objective == "min_time":
        ok = [o for o in opts if o.cost <= budget]
        if ok:
            return min(ok, key=lambda o: (o.days or 0, o.cost)), "feasible"
        return min(opts, key=lambda o: o.cost), "over budget"
    ok = [o for o in opts if deadline is None or meets_deadline(o.days or 0, deadline)]
    if ok:
        best = min(ok, key=lambda o: (o.cost, o.days or 0))
        return best, "feasible" if best.cost <= budget else "over budget"
    return min(opts, key=lambda o: o.days or 0), "misses deadline"


# ---------------------------------------------------------------------- binding constraints
def binding(table: OptionTable, objective: ModelObjective, result: SolveResult, **kw: float) -> list[str]:
    """Constraints with (almost) no slack, plus limits whose removal would improve the objective."""
    from optimizer.model.constraints import DEFAULT_MODULES

    names: list[str] = []
    for module in DEFAULT_MODULES:
        for name, slack in module().slack(result.selection, table).items():
            if slack <= _BINDING_SLACK:
                names.append(name)
    req = table.request
    families = []
    if req.budget is not None:
        families.append("budget")
    if req.limits.power_kw is not None:
        families.append("power")
    if req.limits.racks is not None:
        families.append("racks")
    if table.supply:
        families.append("supply")
    if req.policy.min_domestic_share > 0:
        families.append("domestic_share")
    if req.policy.max_vendor_share < 1:
        families.append("vendor_share")
    if any(o.blocked for o in table.options):
        families.append("policy")
    if objective == "min_cost" and any(isinstance(w, TrainingWorkload) and w.deadline_days for w in req.workloads):
        families.append("deadline")
    if objective == "min_cost" and "budget" in families:
        families.remove("budget")  # a cheaper plan already fits the budget: removing it cannot lower the cost
    for fam in families:
        if any(n == fam or n.startswith(f"{fam}[") for n in names):
            continue
        relaxed = solve(table, objective=objective, disabled={fam}, lexicographic=False, **kw)  # type: ignore[arg-type]
        if relaxed.status.ok and relaxed.objective is not None and result.objective is not None \
                and relaxed.objective < result.objective:
            names.append(fam)
    return list(dict.fromkeys(names))


# ---------------------------------------------------------------------- alternatives and Pareto
def _signature(table: OptionTable, sel: dict[str, int]) -> frozenset[tuple[str, str]]:
    opts = {o.id: o for o in table.options}
    return frozenset((opts[i].workload, opts[i].sku) for i in sel)


def _compact(table: OptionTable, sel: dict[str, int]) -> list[AlternativeItem]:
    opts = {o.id: o for o in table.options}
    return sorted((AlternativeItem(workload=opts[i].workload, sku=opts[i].sku, accelerators=opts[i].accelerators * n)
                   for i, n in sel.items()), key=lambda a: (a.workload, a.sku))


def alternatives(table: OptionTable, objective: ModelObjective, best: SolveResult, k: int,
                 **kw: float) -> list[Alternative]:
    """Top-k distinct runner-up plans: each uses a different (workload, SKU) set than all before it."""
    out: list[Alternative] = []
    nogoods = [_signature(table, best.selection)]
    for rank in range(1, k + 1):
        r = solve(table, objective=objective, nogoods=nogoods, lexicographic=False, **kw)  # type: ignore[arg-type]
        if not r.status.ok:
            break
        nogoods.append(_signature(table, r.selection))
        out.append(Alternative(
            rank=rank, items=_compact(table, r.selection), total_cost=r.cost or 0.0, time_days=r.makespan_days,
            delta_cost=(r.cost or 0.0) - (best.cost or 0.0),
            delta_days=None if (r.makespan_days is None or best.makespan_days is None)
            else r.makespan_days - best.makespan_days,
        ))
    return out


def pareto_front(table: OptionTable, *, max_points: int = 15, time_limit_s: float = 5.0, num_workers: int = 1,
                 ) -> list[ParetoPoint]:
    """Cost-vs-time frontier by the ε-constraint method: cheapest plan, then the cheapest strictly faster one."""
    if not any(isinstance(w, TrainingWorkload) for w in table.request.workloads):
        return []
    points: list[ParetoPoint] = []
    cap: float | None = None
    for _ in range(max_points):
        r = solve(table, objective="min_cost", makespan_cap_days=cap, time_limit_s=time_limit_s,
                  num_workers=num_workers)
        if not r.status.ok or r.makespan_days is None:
            break
        points.append(ParetoPoint(total_cost=r.cost or 0.0, time_days=r.makespan_days,
                                  items=_compact(table, r.selection)))
        cap = math.ceil(r.makespan_days * 100 - 1e-9) / 100 - 0.01
        if cap <= 0:
            break
    return points


# ---------------------------------------------------------------------- relaxations
def _infeasible_message(result: SolveResult, relax: list[Relaxation]) -> str:
    if result.status != SolveStatus.infeasible:
        return f"the solver returned {result.status.value} within its time limit"
    ok = [r.constraint for r in relax if r.feasible]
    if not ok:
        return "no plan satisfies every constraint, and no single or paired relaxation was found"
    return "no plan satisfies every constraint; relaxing any one of these would help: " + ", ".join(ok)


# ---------------------------------------------------------------------- citations
def _citations(catalog: Catalog, table: OptionTable, sel: dict[str, int]) -> list[Citation]:
    ids: list[str] = []
    chosen = {_opt(table, i).sku for i in sel}
    for sku, info in table.skus.items():
        if sku in chosen or any(e.sku == sku and e.category == "compliance" for e in table.exclusions):
            ids.extend(info.compliance.citations)
        if sku in chosen:
            acc = catalog.accelerators[sku]
            if acc.price:
                ids.extend(acc.price.source)
            for node in catalog.nodes_for(sku):
                if node.price:
                    ids.extend(node.price.source)
    ids.extend(catalog.exchange_rate.source)
    out = []
    for sid in dict.fromkeys(ids):
        src = catalog.sources.get(sid)
        if src is not None:
            out.append(Citation(id=sid, title=src.title, url=src.url))
    return out
