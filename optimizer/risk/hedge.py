"""Hedge a purchase: scenario set, two-stage solves for today's plan and the hedge, solver-free re-check, report.

``hedge`` takes today's plan (what :func:`optimizer.recommend.recommend` chose for the same option table) and
returns the :class:`RiskReport` that becomes the plan's ``risk`` block. Ties go to today's plan: the hedge only
changes the purchase when that buys something under the chosen objective.
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.errors import InvalidInputError
from optimizer.plan import PurchasePlan
from optimizer.request import PurchaseRequest, TrainingWorkload
from optimizer.risk.coefficients import Coefficients, HedgeTerms, build_coefficients
from optimizer.risk.defaults import load_defaults
from optimizer.risk.derive import scenario_events
from optimizer.risk.evaluate import Evaluation, Summary, evaluate, summarise
from optimizer.risk.explain import assumptions, citations, event_out, hedged_items, switching_report
from optimizer.risk.report import (
    Assumption,
    BaseHedged,
    HedgeValue,
    RiskReport,
    RiskSolver,
    RiskValidation,
    ScenarioResult,
    Shock,
)
from optimizer.risk.sampling import ScenarioSet, build_scenarios
from optimizer.risk.sizes import likely_slips, with_slip_sizes
from optimizer.risk.solver import HedgeSolution, StageLimits, min_on_weight, solve_hedge
from optimizer.risk.spec import RiskDefaults, RiskSettings
from optimizer.risk.switching import consistent
from optimizer.solve import SolveStatus
from optimizer.table import EstimateCache, OptionTable
from optimizer.validate import revalidate


def scenario_set(catalog: Catalog, engine: ComplianceEngine, table: OptionTable, settings: RiskSettings,
                 defaults: RiskDefaults | None = None) -> ScenarioSet:
    """The request's scenario set (derived, edited, sampled), without solving anything.

    Raises:
        UnknownSkuError: an event names an unknown part. InvalidInputError: an exact set that is too large.
    """
    d = defaults or load_defaults()
    events = scenario_events(table, catalog, engine, d, settings)
    return build_scenarios(events, method=settings.method, samples=settings.samples, seed=settings.seed)


def hedge_terms(request: PurchaseRequest, settings: RiskSettings, defaults: RiskDefaults) -> HedgeTerms:
    """The recourse, timing and objective terms (settings first, then the embedded defaults)."""
    return HedgeTerms(
        objective=settings.objective,
        deposit_lost=settings.deposit_lost if settings.deposit_lost is not None else defaults.recourse.deposit_lost,
        recourse_price_factor=(settings.recourse_price_factor if settings.recourse_price_factor is not None
                               else defaults.recourse.price_factor),
        recourse_lead_days=settings.recourse_lead_days, lead_time_days=request.lead_time_days,
        service_deadline_days=settings.service_deadline_days, cvar_alpha=settings.cvar_alpha,
        min_probability_on_time=settings.min_probability_on_time,
    )


def prepare(catalog: Catalog, engine: ComplianceEngine, table: OptionTable, settings: RiskSettings,
            cache: EstimateCache | None = None) -> Coefficients:
    """Scenario set, switching terms and the model's figures for ``table`` (plus pools sized to absorb slips).

    Raises:
        InvalidInputError: mixed pools (not supported by the two-stage model), an unknown stack, a too large set.
    """
    req = table.request
    if req.allow_mixed_pools:
        raise InvalidInputError("hedged plans do not support mixed training pools yet; drop allow_mixed_pools "
                                "or the risk settings")
    if not consistent(req, settings):
        raise InvalidInputError("the option table was built without the risk section's switching terms; build it "
                                "from optimizer.risk.switching.switching_request(request, settings)")
    defaults = load_defaults()
    sset = scenario_set(catalog, engine, table, settings, defaults)
    terms = hedge_terms(req, settings, defaults)
    # The table already carries the switching terms and ramped training times (optimizer.switching), exactly as
    # today's plan counts them.
    wide = with_slip_sizes(catalog, engine, table, likely_slips(sset, terms.recourse_lead_days), cache)
    return build_coefficients(wide, sset, terms, table.switching)


def _soft_free(table: OptionTable) -> OptionTable:
    """The table with budget and deadlines removed: the first stage's hard constraints only."""
    req = table.request
    workloads = [w.model_copy(update={"deadline_days": None}) if isinstance(w, TrainingWorkload) else w
                 for w in req.workloads]
    soft = req.model_copy(update={"budget": None, "workloads": workloads})
    return OptionTable(request=soft, currency=table.currency, options=table.options, exclusions=table.exclusions,
                       skus=table.skus, supply=dict(table.supply), notes=list(table.notes),
                       switching=table.switching)


def _evaluate_all(co: Coefficients, sol: HedgeSolution) -> list[Evaluation]:
    return [evaluate(co, j, sol.selection, sol.recourse[j]) for j in range(len(co.per_scenario))]


def _check(co: Coefficients, sol: HedgeSolution, evals: list[Evaluation], label: str) -> list[str]:
    problems: list[str] = []
    for j, (ev, on, fail) in enumerate(zip(evals, sol.on, sol.fail, strict=True)):
        problems += [f"{label}: {p}" for p in ev.problems]
        if fail == ev.outcome.feasible:
            problems.append(f"{label}: scenario {j}: the model says {'fails' if fail else 'feasible'}, "
                            f"the re-check says {'feasible' if ev.outcome.feasible else 'fails'}")
        if on and not ev.outcome.on_time:
            problems.append(f"{label}: scenario {j}: on time in the model but late or over budget on re-check")
    return problems


def hedge(catalog: Catalog, engine: ComplianceEngine, table: OptionTable, base: PurchasePlan,
          settings: RiskSettings, *, cache: EstimateCache | None = None, time_limit_s: float = 5.0,
          num_workers: int = 1) -> RiskReport:
    """Compare today's plan with the hedged plan over the request's scenario set.

    Raises:
        InvalidInputError, UnknownSkuError: bad risk settings (mixed pools, unknown stack or part, huge exact set).
        WorkCancelledError: the request was cancelled.
    """
    start = time.perf_counter()
    table, targets = _time_targets(table, base, settings.time_slack)
    co = prepare(catalog, engine, table, settings, cache)
    limits = StageLimits(time_limit_s=time_limit_s, num_workers=num_workers)
    base_sel = {i.option_id: i.units for i in base.items} if base.items else None
    base_sol, hedged, same = solve_pair(co, base_sel, limits)
    report = _report(catalog, engine, co, table, settings, base_sol, hedged, same, time.perf_counter() - start)
    return report.model_copy(update={"assumptions": report.assumptions + [
        Assumption(name=f"target_days[{name}]", value=round(days, 1), unit="days from the order",
                   basis=f"no deadline was given: on time means within today's plan's time × (1 + "
                         f"{settings.time_slack:g})") for name, days in targets.items()]})


def _time_targets(table: OptionTable, base: PurchasePlan, slack: float) -> tuple[OptionTable, dict[str, float]]:
    """Deadlines for training workloads that have none, from today's plan (× 1 + ``slack``).

    Without a deadline, "on time" would only mean "within budget", and the cheapest way to be within budget in
    every scenario is a tiny cluster that trains for years: the hedge must keep today's plan's time in view.
    """
    req = table.request
    lead = req.lead_time_days
    targets: dict[str, float] = {}
    for w in req.workloads:
        if not isinstance(w, TrainingWorkload) or w.deadline_days is not None:
            continue
        times = [i.time_days for i in base.items if i.workload == w.name and i.time_days is not None]
        if times:
            targets[w.name] = (lead + max(times)) * (1 + slack)
    if not targets:
        return table, {}
    workloads = [w.model_copy(update={"deadline_days": targets[w.name]}) if w.name in targets else w
                 for w in req.workloads]
    timed = req.model_copy(update={"workloads": workloads})
    return OptionTable(request=timed, currency=table.currency, options=table.options, exclusions=table.exclusions,
                       skus=table.skus, supply=dict(table.supply), notes=list(table.notes),
                       switching=table.switching), targets


def solve_pair(co: Coefficients, base: Mapping[str, int] | None, limits: StageLimits = StageLimits()
               ) -> tuple[HedgeSolution | None, HedgeSolution, bool]:
    """Today's plan with its best recourse, the hedged plan, and whether the hedge keeps today's plan.

    For expected_cost and cvar the hedge must be on time at least as often as today's plan (or as the request's
    ``min_probability_on_time``). Ties go to today's plan.
    """
    base_sol = solve_hedge(co, fixed=base, limits=limits) if base else None
    require = None
    if co.terms.objective != "on_time":
        if co.terms.min_probability_on_time is not None:
            require = min_on_weight(co, co.terms.min_probability_on_time)
        else:
            require = base_sol.on_weight if base_sol is not None and base_sol.status.ok else 0
    hedged = solve_hedge(co, require_on=require, hint=base, limits=limits)
    if (base_sol is None or not base_sol.status.ok) and hedged.status.ok and hedged.on_weight == 0:
        # No plan today and no plan on time in any scenario: a purchase that never meets the request is no hedge.
        return base_sol, HedgeSolution(status=SolveStatus.infeasible, wall_time_s=hedged.wall_time_s,
                                       stages=hedged.stages, variables=hedged.variables), False
    if base_sol is None or not base_sol.status.ok or (hedged.status.ok and hedged.objective < base_sol.objective):
        return base_sol, hedged, False
    kept = HedgeSolution(status=hedged.status if hedged.status.ok else base_sol.status,
                         selection=base_sol.selection, recourse=base_sol.recourse, on=base_sol.on,
                         fail=base_sol.fail, objective=base_sol.objective, on_weight=base_sol.on_weight,
                         wall_time_s=hedged.wall_time_s, stages=hedged.stages, variables=hedged.variables)
    return base_sol, kept, True


def _pair(base: Summary | None, hedged: Summary | None, attr: str) -> BaseHedged:
    return BaseHedged(base=None if base is None else getattr(base, attr),
                      hedged=None if hedged is None else getattr(hedged, attr))


def _nominal(co: Coefficients, selection: Mapping[str, int]) -> float:
    cost = sum(co.by_id[i].cost * n for i, n in selection.items() if n)
    if co.switching is not None:
        kinds = {w.name: ("training" if isinstance(w, TrainingWorkload) else "inference")
                 for w in co.table.request.workloads}
        fams = {(co.by_id[i].workload, co.family[i]) for i, n in selection.items() if n and co.family[i]}
        cost += sum(co.switching.terms[f].porting(kinds[w]) for w, f in fams if f is not None)
    return cost


def _report(catalog: Catalog, engine: ComplianceEngine, co: Coefficients, table: OptionTable,
            settings: RiskSettings, base_sol: HedgeSolution | None, hedged: HedgeSolution, same: bool,
            wall_s: float) -> RiskReport:
    sset = co.scenarios
    problems: list[str] = []
    base_evals = _evaluate_all(co, base_sol) if base_sol is not None and base_sol.status.ok else None
    hedged_evals = _evaluate_all(co, hedged) if hedged.status.ok else None
    if base_evals is not None and base_sol is not None:
        problems += _check(co, base_sol, base_evals, "base")
    if hedged_evals is not None:
        problems += _check(co, hedged, hedged_evals, "hedged")
        first = revalidate(catalog, engine, _soft_free(co.table), hedged.selection)
        problems += [f"hedged plan: {p}" for p in first.problems]
    base_sum = summarise(co, [e.outcome for e in base_evals]) if base_evals else None
    hedged_sum = summarise(co, [e.outcome for e in hedged_evals]) if hedged_evals else None
    rows = []
    for j, s in enumerate(sset.scenarios):
        rows.append(ScenarioResult(
            name=s.name, probability=sset.probability(s), events=list(s.labels),
            shocks=[Shock(code=c, sku=k, days=d) for c, k, d in s.shocks],  # type: ignore[arg-type]
            base=base_evals[j].outcome if base_evals else None,
            hedged=hedged_evals[j].outcome if hedged_evals else None))
    base_nom = _nominal(co, base_sol.selection) if base_sol is not None and base_sol.status.ok else None
    hedged_nom = _nominal(co, hedged.selection) if hedged.status.ok else None
    value = None
    if base_sum is not None and hedged_sum is not None and base_nom is not None and hedged_nom is not None:
        value = HedgeValue(upfront_cost=hedged_nom - base_nom,
                           expected_saving=base_sum.expected_cost - hedged_sum.expected_cost,
                           worst_case_saving=base_sum.worst_case - hedged_sum.worst_case,
                           cvar_saving=base_sum.cvar - hedged_sum.cvar,
                           probability_on_time_gain=hedged_sum.probability_on_time - base_sum.probability_on_time)
    return RiskReport(
        objective=co.terms.objective, status=hedged.status.value,
        message=_message(co, hedged, hedged_sum, base_sum, same), currency=table.currency,
        method=sset.method, samples=sset.samples, seed=sset.seed,  # type: ignore[arg-type]
        cvar_alpha=co.terms.cvar_alpha, same_as_base=same, scenarios=rows,
        probability_on_time=_pair(base_sum, hedged_sum, "probability_on_time"),
        probability_feasible=_pair(base_sum, hedged_sum, "probability_feasible"),
        expected_total_cost=_pair(base_sum, hedged_sum, "expected_cost"),
        worst_case_cost=_pair(base_sum, hedged_sum, "worst_case"),
        cvar_total_cost=_pair(base_sum, hedged_sum, "cvar"),
        nominal_cost=BaseHedged(base=base_nom, hedged=hedged_nom), value_of_hedging=value,
        items=hedged_items(catalog, co, hedged.selection) if hedged.status.ok else [],
        events=[event_out(e) for e in sset.events],
        switching=switching_report(co, base_sol.selection if base_sol is not None else {},
                                   hedged.selection if hedged.status.ok else {}),
        assumptions=assumptions(co, settings), citations=citations(co),
        validation=RiskValidation(ok=not problems, problems=problems),
        solver=RiskSolver(status=hedged.status.value, wall_time_ms=wall_s * 1000,
                          stages=hedged.stages + (base_sol.stages if base_sol is not None else 0),
                          scenarios=len(sset.scenarios), variables=hedged.variables),
    )


def _message(co: Coefficients, hedged: HedgeSolution, h: Summary | None, b: Summary | None, same: bool) -> str:
    if hedged.status == SolveStatus.infeasible:
        return "no hedged plan: no purchase finishes on time within the budget in any scenario"
    if not hedged.status.ok or h is None:
        return f"no hedged plan: the two-stage model returned {hedged.status.value}"
    parts = sorted({f"{co.by_id[i].accelerators * n} × {co.by_id[i].sku}" for i, n in hedged.selection.items()})
    head = "keep today's plan" if same else "hedged plan " + ", ".join(parts)
    text = f"{head}: on time in {h.probability_on_time:.0%} of scenarios"
    if b is not None:
        text += f" (today's plan {b.probability_on_time:.0%})"
    text += f", expected total {h.expected_cost:,.0f} {co.table.currency}"
    if b is not None:
        text += f" (today's plan {b.expected_cost:,.0f})"
    return text
