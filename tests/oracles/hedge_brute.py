"""Exhaustive enumeration of the two-stage model on small instances: the test oracle of optimizer/risk.

Every first-stage selection is enumerated; for every information class (scenarios that lose the same parts on the
same days share one recourse) every recourse is enumerated, and the best is taken as the model defines it (on time
first, then workloads on time, then the no-shock cost or makespan, then the expected cost; for the cost objectives
every combination of class recourses meeting the on-time floor).
Integer figures come from :mod:`optimizer.risk.coefficients`, so the oracle counts exactly as the CP-SAT model does.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping
from dataclasses import dataclass

from optimizer.request import TrainingWorkload
from optimizer.risk.coefficients import Coefficients, ScenarioCoefs, time_units
from tests.oracles.brute import enumerate_selections


def _first_stage_ok(co: Coefficients, sel: Mapping[str, int]) -> bool:
    req = co.table.request
    if any(i not in co.by_id for i in sel):
        return False
    for w in req.workloads:
        mine = [i for i in sel if co.by_id[i].workload == w.name]
        if isinstance(w, TrainingWorkload):
            if len(mine) != 1:
                return False
        elif sum(co.capacity[i] * sel[i] for i in mine) < co.need[w.name]:
            return False
    return _fleet_ok(co, sel, check_ratios=True)


def _fleet_ok(co: Coefficients, fleet: Mapping[str, int], *, check_ratios: bool) -> bool:
    req = co.table.request
    if co.power_cap is not None and sum(co.power[i] * n for i, n in fleet.items()) > co.power_cap:
        return False
    if req.limits.racks is not None and sum(co.by_id[i].nodes * n for i, n in fleet.items()) > \
            req.limits.racks * req.limits.nodes_per_rack:
        return False
    for sku, limit in co.table.supply.items():
        if sum(co.by_id[i].accelerators * n for i, n in fleet.items() if co.by_id[i].sku == sku) > limit:
            return False
    if not check_ratios:
        return True
    total = sum(co.by_id[i].accelerators * n for i, n in fleet.items())
    share = req.policy.min_domestic_share
    if share > 0:
        dom = sum(co.by_id[i].accelerators * n for i, n in fleet.items() if co.by_id[i].domestic)
        if 1000 * dom < math.ceil(share * 1000 - 1e-9) * total:
            return False
    cap = req.policy.max_vendor_share
    if cap < 1:
        permille = math.floor(cap * 1000 + 1e-9)
        for vendor in {co.by_id[i].vendor for i in fleet}:
            if 1000 * sum(co.by_id[i].accelerators * n for i, n in fleet.items() if co.by_id[i].vendor == vendor) \
                    > permille * total:
                return False
    return True


def _recourses(co: Coefficients, sc: ScenarioCoefs, sel: Mapping[str, int]
               ) -> Iterator[tuple[dict[str, int], frozenset[str]]]:
    """Every recourse (replacement units, workloads that fail) of a scenario for a first stage."""
    per_workload: list[list[tuple[dict[str, int], str | None]]] = []
    for w in co.table.request.workloads:
        if w.name not in sc.affected:
            continue
        repl = [o for o in co.workload_options(w.name) if o.id in sc.rec_cost]
        mine = [i for i in sel if co.by_id[i].workload == w.name]
        lost = [i for i in mine if not sc.delivered[i]]
        if not lost:
            per_workload.append([({}, None)])
            continue
        opts: list[tuple[dict[str, int], str | None]] = [({}, w.name)]
        if isinstance(w, TrainingWorkload):
            opts += [({o.id: 1}, None) for o in repl]
        else:
            kept = sum(co.capacity[i] * sel[i] for i in mine if sc.delivered[i])
            for counts in itertools.product(*[range(o.max_units + 1) for o in repl]):
                r = {o.id: n for o, n in zip(repl, counts, strict=True) if n}
                if kept + sum(co.capacity[i] * n for i, n in r.items()) >= co.need[w.name]:
                    opts.append((r, None))
        per_workload.append(opts)
    for combo in itertools.product(*per_workload):
        rec: dict[str, int] = {}
        for r, _ in combo:
            rec.update(r)
        yield rec, frozenset(f for _, f in combo if f is not None)


@dataclass(frozen=True)
class Result:
    """One recourse in one scenario."""

    on: bool
    workloads_on: int
    cost: int


def _outcome(co: Coefficients, sc: ScenarioCoefs, sel: Mapping[str, int], rec: Mapping[str, int],
             fails: frozenset[str]) -> Result | None:
    """The outcome of one recourse, or None when it breaks a fleet limit."""
    fleet = {i: n for i, n in sel.items() if sc.delivered[i]}
    for i, n in rec.items():
        fleet[i] = fleet.get(i, 0) + n
    if sc.affected and not _fleet_ok(co, fleet, check_ratios=not fails):
        return None
    cost = sum(sc.keep_cost[i] * n for i, n in sel.items()) + sum(sc.rec_cost[i] * n for i, n in rec.items())
    fams = {(co.by_id[i].workload, co.family[i]) for i in [*sel, *rec] if co.family[i] is not None}
    cost += sum(co.porting[k] for k in fams)  # type: ignore[index]
    cost += co.fail_penalty * len(fails)
    late = set(fails)
    for i in sel:
        if sc.delivered[i] and sc.late[i]:
            late.add(co.by_id[i].workload)
    for i in rec:
        w = co.by_id[i].workload
        lost = [co.by_id[k].sku for k in sel if co.by_id[k].workload == w and not sc.delivered[k]]
        if any(sc.rec_late[(k, i)] for k in lost):
            late.add(w)
    n = len(co.table.request.workloads)
    on = not late and (co.budget is None or cost <= co.budget)
    return Result(on=on, workloads_on=n - len(late), cost=cost)


@dataclass(frozen=True)
class Candidate:
    """One recourse of an information class: weighted on-time figures, cost and span."""

    on: int
    workloads_on: int
    cost: int
    costs: tuple[int, ...]
    """Per scenario of the class."""


def _candidates(co: Coefficients, sel: Mapping[str, int]) -> list[list[Candidate]] | None:
    """Per information class, every recourse the model may choose (a class shares one recourse)."""
    out = []
    for members in co.classes:
        first = co.per_scenario[members[0]]
        cands = []
        for rec, fails in _recourses(co, first, sel):
            results = [_outcome(co, co.per_scenario[j], sel, rec, fails) for j in members]
            ok = [r for r in results if r is not None]
            if len(ok) != len(results):
                continue
            ws = [co.per_scenario[j].weight for j in members]
            cands.append(Candidate(
                on=sum(w for w, r in zip(ws, ok, strict=True) if r.on),
                workloads_on=sum(w * r.workloads_on for w, r in zip(ws, ok, strict=True)),
                cost=sum(w * r.cost for w, r in zip(ws, ok, strict=True)),
                costs=tuple(r.cost for r in ok)))
        if not cands:
            return None
        out.append(cands)
    return out


def on_weight(co: Coefficients, sel: Mapping[str, int]) -> int | None:
    """The most scenario weight a first stage can have on time (None if it is not a valid first stage)."""
    if not _first_stage_ok(co, sel):
        return None
    per = _candidates(co, sel)
    if per is None:
        return None
    return sum(max(c.on for c in cands) for cands in per)


def _cvar_value(co: Coefficients, costs: list[int]) -> int:
    weights = [sc.weight for sc in co.per_scenario]
    a = co.terms.alpha_percent
    best = None
    for t in {0, *costs}:
        v = (100 - a) * co.total_weight * t + 100 * sum(w * max(0, c - t) for w, c in zip(weights, costs, strict=True))
        best = v if best is None else min(best, v)
    return best or 0


def _pareto(cands: list[Candidate]) -> list[Candidate]:
    """Drop a recourse another one beats in on-time weight and in every scenario's cost.

    Recourses with the same on-time weight and costs are one for the cost objectives (only ``workloads_on`` may
    differ, which they do not count): keep one of them, or each would drop the other.
    """
    unique = list({(c.on, c.costs): c for c in cands}.values())
    return [c for c in unique if not any(d is not c and d.on >= c.on and all(
        x <= y for x, y in zip(d.costs, c.costs, strict=True)) for d in unique)]


def objective(co: Coefficients, sel: Mapping[str, int], require_on: int | None) -> tuple[int, ...] | None:
    """The model's objective tuple of a first stage (None when it is infeasible)."""
    if not _first_stage_ok(co, sel):
        return None
    per = _candidates(co, sel)
    if per is None:
        return None
    kind = co.terms.objective
    if kind == "on_time":
        fastest = co.table.request.resolved_objective == "min_time" and any(
            isinstance(w, TrainingWorkload) for w in co.table.request.workloads)
        on = partial = expected = 0
        for cands in per:
            top = max((c.on, c.workloads_on) for c in cands)
            on += top[0]
            partial += top[1]
            expected += min(c.cost for c in cands if (c.on, c.workloads_on) == top)
        if fastest:
            nominal = max((time_units(co.by_id[i].days or 0.0) for i in sel if co.by_id[i].kind == "training"),
                          default=0)
        else:
            fams = {(co.by_id[i].workload, co.family[i]) for i in sel if co.family[i] is not None}
            nominal = sum(co.nominal_cost[i] * n for i, n in sel.items()) + sum(
                co.porting[k] for k in fams)  # type: ignore[index]
        return (-on, -partial, nominal, expected)
    need = require_on or 0
    best: tuple[int, ...] | None = None
    for combo in itertools.product(*[_pareto(c) for c in per]):
        if sum(c.on for c in combo) < need:
            continue
        total = sum(c.cost for c in combo)
        if kind == "expected_cost":
            key: tuple[int, ...] = (total,)
        else:
            costs = [0] * len(co.per_scenario)
            for members, c in zip(co.classes, combo, strict=True):
                for j, v in zip(members, c.costs, strict=True):
                    costs[j] = v
            key = (_cvar_value(co, costs), total)
        if best is None or key < best:
            best = key
    return best


def brute_hedge(co: Coefficients, *, require_on: int | None = None) -> tuple[tuple[int, ...], dict[str, int]] | None:
    """The best objective tuple over every first stage, and a selection reaching it (None if infeasible)."""
    best: tuple[tuple[int, ...], dict[str, int]] | None = None
    for sel in enumerate_selections(co.table):
        key = objective(co, sel, require_on)
        if key is not None and (best is None or key < best[0]):
            best = (key, sel)
    return best
