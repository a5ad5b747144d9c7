"""Re-check a plan and its recourse in every scenario without the solver, and summarise the outcomes.

For each scenario the check rebuilds the fleet (first-stage parts that come, plus replacements), tests coverage
and every limit in real numbers, recomputes the total cost (prices, lost deposits, replacements, porting) and the
finishing days from the timeline, and decides "on time" with the model's own rounding (costs and times rounded up),
so the re-check and the model agree on every scenario. Problems are collected as sentences, never raised.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from optimizer.request import TrainingWorkload
from optimizer.risk.coefficients import Coefficients, lost_cost, price_cost
from optimizer.risk.report import Outcome, RecourseItem
from optimizer.risk.sampling import Scenario

_TOL = 1e-6


@dataclass
class Evaluation:
    """One plan in one scenario, recomputed."""

    outcome: Outcome
    cost_units: int
    problems: list[str] = field(default_factory=list)


def _fleet_ok(co: Coefficients, fleet: Mapping[str, int]) -> list[str]:
    req = co.table.request
    out = []
    opts = co.by_id
    power = sum(opts[i].power_kw * n for i, n in fleet.items())
    if req.limits.power_kw is not None and power > req.limits.power_kw * (1 + _TOL):
        out.append(f"power {power:,.1f} kW exceeds the cap {req.limits.power_kw:,.1f} kW")
    nodes = sum(opts[i].nodes * n for i, n in fleet.items())
    if req.limits.racks is not None and nodes > req.limits.racks * req.limits.nodes_per_rack:
        out.append(f"{nodes} nodes exceed the racks")
    for sku, limit in co.table.supply.items():
        used = sum(opts[i].accelerators * n for i, n in fleet.items() if opts[i].sku == sku)
        if used > limit:
            out.append(f"{used} × {sku} exceeds the supply limit {limit}")
    total = sum(opts[i].accelerators * n for i, n in fleet.items())
    share = req.policy.min_domestic_share
    dom = sum(opts[i].accelerators * n for i, n in fleet.items() if opts[i].domestic)
    if share > 0 and total and dom < share * total * (1 - _TOL):
        out.append(f"domestic share {dom / total:.1%} below {share:.0%}")
    cap = req.policy.max_vendor_share
    if cap < 1 and total:
        for vendor in {opts[i].vendor for i in fleet}:
            mine = sum(opts[i].accelerators * n for i, n in fleet.items() if opts[i].vendor == vendor)
            if mine > cap * total * (1 + _TOL):
                out.append(f"vendor {vendor} above {cap:.0%} of accelerators")
    return out


def evaluate(co: Coefficients, j: int, selection: Mapping[str, int], recourse: Mapping[str, int]) -> Evaluation:
    """The outcome of ``selection`` with ``recourse`` in scenario ``j``."""
    s: Scenario = co.scenarios.scenarios[j]
    sc = co.per_scenario[j]
    t = co.terms
    req = co.table.request
    problems: list[str] = []
    chosen = {i: n for i, n in selection.items() if n}
    rec = {i: n for i, n in recourse.items() if n}
    for i, n in [*chosen.items(), *rec.items()]:
        o = co.by_id.get(i)
        if o is None:
            problems.append(f"scenario {j}: {i} is not an admissible option")
        elif not 0 < n <= o.max_units:
            problems.append(f"scenario {j}: {n} units of {i} outside 1..{o.max_units}")
    if problems:
        return Evaluation(Outcome(feasible=False, on_time=False, days=None, total_cost=0.0), 0, problems)
    for i in rec:
        if i not in sc.rec_cost or co.by_id[i].workload not in sc.affected:
            problems.append(f"scenario {j}: {i} bought as a replacement although nothing it could replace was lost "
                            "or its part does not come either")
    lost_skus = sorted({co.by_id[i].sku for i in chosen if not sc.delivered[i]})
    feasible = True
    unserved: list[str] = []
    late: list[str] = []
    finish: list[float] = []
    ready: list[float] = []
    rec_items: list[RecourseItem] = []
    on = True
    for w in req.workloads:
        mine = [i for i in chosen if co.by_id[i].workload == w.name]
        repl = [i for i in rec if co.by_id[i].workload == w.name]
        lost_here = [co.by_id[i].sku for i in mine if not sc.delivered[i]]
        if isinstance(w, TrainingWorkload):
            kept = [i for i in mine if sc.delivered[i]]
            if lost_here and len(repl) > 1:
                problems.append(f"scenario {j}: {w.name} replaced by {len(repl)} pools")
            if not lost_here and repl:
                problems.append(f"scenario {j}: {w.name} lost nothing but bought a replacement")
            if lost_here and not repl:
                feasible = False
                unserved.append(w.name)
                continue
            for i in kept:
                o = co.by_id[i]
                day = t.lead_time_days + s.state(o.sku).delay + (o.days or 0.0)
                finish.append(day)
                on = on and not sc.late[i]
                if sc.late[i]:
                    late.append(w.name)
            for i in repl:
                o = co.by_id[i]
                k = lost_here[0]
                go = s.state(k).disrupted_at or 0.0
                start = go + t.lead_time_days + t.recourse_lead_days + s.state(o.sku).delay
                finish.append(start + (o.days or 0.0))
                on = on and not sc.rec_late[(k, i)]
                if sc.rec_late[(k, i)]:
                    late.append(w.name)
                rec_items.append(_item(co, i, 1, s, start))
        else:
            cap = sum((co.by_id[i].capacity_rps or 0) * chosen[i] for i in mine if sc.delivered[i])
            cap += sum((co.by_id[i].capacity_rps or 0) * rec[i] for i in repl)
            cap_units = sum(co.capacity[i] * chosen[i] for i in mine if sc.delivered[i])
            cap_units += sum(co.capacity[i] * rec[i] for i in repl)
            if not lost_here and repl:
                problems.append(f"scenario {j}: {w.name} lost nothing but bought replacement capacity")
            if cap_units < co.need[w.name] or cap < w.requests_per_s * (1 - _TOL):
                feasible = False
                unserved.append(w.name)
                continue
            for i in mine:
                if sc.delivered[i]:
                    ready.append(t.lead_time_days + s.state(co.by_id[i].sku).delay)
                    on = on and not sc.late[i]
                    if sc.late[i]:
                        late.append(w.name)
            for i in repl:
                o = co.by_id[i]
                starts = [(s.state(k).disrupted_at or 0.0) + t.lead_time_days + t.recourse_lead_days
                          + s.state(o.sku).delay for k in dict.fromkeys(lost_here)]
                ready.append(max(starts))
                if any(sc.rec_late[(k, i)] for k in lost_here):
                    on = False
                    late.append(w.name)
                rec_items.append(_item(co, i, rec[i], s, max(starts)))
    fleet = {i: n for i, n in chosen.items() if sc.delivered[i]}
    for i, n in rec.items():
        fleet[i] = fleet.get(i, 0) + n
    if feasible:
        problems += [f"scenario {j}: {p}" for p in _fleet_ok(co, fleet)]
    # Cost: what is paid for parts that come, deposits lost on parts that do not, replacements, porting.
    real = 0.0
    units = 0
    for i, n in chosen.items():
        o, st = co.by_id[i], s.state(co.by_id[i].sku)
        real += n * (price_cost(o, st.price) if sc.delivered[i] else lost_cost(o, st.price, t.deposit_lost))
        units += n * sc.keep_cost[i]
    for i, n in rec.items():
        o, st = co.by_id[i], s.state(co.by_id[i].sku)
        real += n * price_cost(o, st.price) * t.recourse_price_factor
        units += n * sc.rec_cost.get(i, 0)
    fams = {(co.by_id[i].workload, co.family[i]) for i in [*chosen, *rec] if co.family.get(i) is not None}
    for key in fams:
        units += co.porting[key]  # type: ignore[index]
        if co.switching is not None:
            w_kind = "training" if any(isinstance(w, TrainingWorkload) and w.name == key[0] for w in req.workloads) \
                else "inference"
            real += co.switching.terms[key[1]].porting(w_kind)  # type: ignore[index]
    if co.budget is not None and units > co.budget:
        on = False
    on = on and feasible
    days = max(finish) if finish else (max(ready) if ready else None)
    outcome = Outcome(feasible=feasible, on_time=on, days=days, total_cost=real, lost=lost_skus,
                      unserved=unserved, late=sorted(set(late)), recourse=rec_items)
    return Evaluation(outcome, units, problems)


def _item(co: Coefficients, oid: str, units: int, s: Scenario, ready: float) -> RecourseItem:
    o = co.by_id[oid]
    st = s.state(o.sku)
    return RecourseItem(workload=o.workload, sku=o.sku, nodes=o.nodes * units, accelerators=o.accelerators * units,
                        cost=price_cost(o, st.price) * co.terms.recourse_price_factor * units, ready_day=ready)


@dataclass(frozen=True)
class Summary:
    """Probability-weighted figures of one plan over the scenario set."""

    probability_on_time: float
    probability_feasible: float
    expected_cost: float
    worst_case: float
    cvar: float


def cvar(costs: Sequence[float], weights: Sequence[int], alpha: float) -> float:
    """Mean of the worst (1 − alpha) probability mass of a discrete cost distribution."""
    total = sum(weights)
    tail = (1 - alpha) * total
    if tail <= 0 or not costs:
        return max(costs, default=0.0)
    acc = 0.0
    left = tail
    for c, w in sorted(zip(costs, weights, strict=True), key=lambda p: -p[0]):
        take = min(w, left)
        acc += c * take
        left -= take
        if left <= 1e-12:
            break
    return acc / tail


def summarise(co: Coefficients, outcomes: Sequence[Outcome]) -> Summary:
    """Probability on time, probability feasible, expected, worst-case and CVaR cost of a plan."""
    weights = [sc.weight for sc in co.per_scenario]
    total = co.total_weight
    costs = [o.total_cost for o in outcomes]
    return Summary(
        probability_on_time=sum(w for w, o in zip(weights, outcomes, strict=True) if o.on_time) / total,
        probability_feasible=sum(w for w, o in zip(weights, outcomes, strict=True) if o.feasible) / total,
        expected_cost=math.fsum(w * c for w, c in zip(weights, costs, strict=True)) / total,
        worst_case=max(costs, default=0.0),
        cvar=cvar(costs, weights, co.terms.cvar_alpha),
    )
