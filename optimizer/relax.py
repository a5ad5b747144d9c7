"""Relaxations of an infeasible request, searched on the real model and verified by re-solving.

Each relaxation changes one request value (budget, a training deadline, the minimum domestic share, the licence
policy, the power cap, racks, supply) and is the smallest change that makes the request feasible: the search
rebuilds the option table for each probed value (so options that only exist under the changed value, such as a
larger pool for a longer deadline, are seen) and solves it. Feasibility is monotone in each value (a larger
budget or a longer deadline only adds options; see ``table.size_grid``), so bisection finds the boundary. Values
beyond the request's own bounds (the 3,650-day deadline cap, the largest budget) are not offered. When no single
change suffices, pairs are tried: one value set to its most permissive bound, the other searched, then the first
tightened again.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.model.objectives import ModelObjective
from optimizer.plan import Relaxation
from optimizer.request import MAX_MONEY, MAX_POWER_KW, PurchaseRequest, TrainingWorkload
from optimizer.solve import SolveResult, solve
from optimizer.table import EstimateCache, OptionTable, bisect_first, build_table, with_policy_blocks_lifted
from optimizer.units import MONEY_UNIT

MAX_DEADLINE_DAYS = 3650
"""Longest deadline a request may carry (``TrainingWorkload.deadline_days``)."""


@dataclass
class _Probe:
    """Re-solves changed requests on freshly built option tables."""

    catalog: Catalog
    engine: ComplianceEngine
    cache: EstimateCache
    kw: dict[str, Any]
    probes: int = 0

    def run(self, req: PurchaseRequest) -> SolveResult:
        self.probes += 1
        table = build_table(self.catalog, self.engine, req, self.cache)
        return solve(table, objective=req.resolved_objective, lexicographic=False, **self.kw)

    def ok(self, req: PurchaseRequest) -> bool:
        return self.run(req).status.ok


def changed(req: PurchaseRequest, updates: dict[str, Any]) -> PurchaseRequest:
    """The request with dotted-path updates applied (``budget.amount``, ``workloads.NAME.deadline_days`` …)."""
    data = req.model_dump()
    for path, value in updates.items():
        parts = path.split(".")
        if parts[0] == "workloads":
            w = next(x for x in data["workloads"] if x["name"] == parts[1])
            w[parts[2]] = value
            continue
        node = data
        for p in parts[:-1]:
            if node.get(p) is None:
                node[p] = {}
            node = node[p]
        node[parts[-1]] = value
    if "budget.amount" in updates and req.budget is not None:
        data["budget"]["currency"] = req.budget.currency
    return PurchaseRequest.model_validate(data)


# ---------------------------------------------------------------------------- one family at a time
def _budget(probe: _Probe, req: PurchaseRequest, table: OptionTable | None) -> Relaxation | None:
    if req.budget is None:
        return None
    cur = req.budget.amount

    def ok(units: int) -> bool:
        return probe.ok(changed(req, {"budget.amount": units * MONEY_UNIT}))

    start = math.floor(cur / MONEY_UNIT)
    guess: int | None = None
    if table is not None:  # the cheapest plan with the budget switched off bounds the answer from above
        r = solve(table, objective="min_cost", disabled={"budget"}, lexicographic=False, **probe.kw)
        if r.status.ok and r.objective is not None:
            guess = max(start + 1, int(r.objective))
    top = math.floor(MAX_MONEY / MONEY_UNIT)
    if guess is None or not ok(min(guess, top)):
        if not ok(top):
            return Relaxation(kind="budget", constraint="budget", feasible=False, field="budget.amount",
                              current=cur, unit=req.budget.currency, reason="insufficient_alone")
        guess = _gallop(ok, start, top)
    guess = min(guess, top)
    value = bisect_first(ok, start, guess)
    return Relaxation(kind="budget", constraint="budget", feasible=True, verified=True, field="budget.amount",
                      current=cur, value=value * MONEY_UNIT, unit=req.budget.currency)


def _gallop(ok: Callable[[int], bool], bad: int, top: int) -> int:
    """A value where ``ok`` holds, found by doubling the step from ``bad`` (``ok(top)`` must hold)."""
    step = max(1, bad)
    probe = bad + step
    while probe < top and not ok(probe):
        step *= 4
        probe = bad + step
    return min(probe, top)


def _deadline(probe: _Probe, req: PurchaseRequest, w: TrainingWorkload) -> Relaxation:
    assert w.deadline_days is not None
    cur = w.deadline_days
    field = f"workloads.{w.name}.deadline_days"

    def ok(days: int) -> bool:
        return probe.ok(changed(req, {field: float(days)}))

    base: dict[str, Any] = {"kind": "deadline", "constraint": f"deadline[{w.name}]", "field": field,
                            "workload": w.name, "current": cur, "unit": "days"}
    start = math.floor(cur)
    if start >= MAX_DEADLINE_DAYS or not ok(MAX_DEADLINE_DAYS):
        return Relaxation(feasible=False, reason="insufficient_alone", limit=MAX_DEADLINE_DAYS, **base)
    good = MAX_DEADLINE_DAYS
    fastest = _fastest_days(probe, req, w)  # the fastest plan within the other limits bounds the answer
    if fastest is not None and start < math.ceil(fastest) < MAX_DEADLINE_DAYS and ok(math.ceil(fastest)):
        good = math.ceil(fastest)
    value = bisect_first(ok, start, good)
    return Relaxation(feasible=True, verified=True, value=float(value), **base)


def _fastest_days(probe: _Probe, req: PurchaseRequest, w: TrainingWorkload) -> float | None:
    """Deadline (incl. lead time) of the fastest plan for ``w`` when its deadline is lifted (None if none)."""
    if req.budget is None and req.limits.power_kw is None and req.limits.racks is None and not req.limits.supply:
        return None  # min_time needs a limit; the bisection alone will do
    try:
        loose = changed(req, {f"workloads.{w.name}.deadline_days": None, "objective": "min_time"})
    except ValueError:
        return None  # another workload's deadline makes the loosened request invalid
    table = build_table(probe.catalog, probe.engine, loose, probe.cache)
    r = solve(table, objective="min_time", lexicographic=False, **probe.kw)
    if not r.status.ok:
        return None
    days = next((o.days for o in table.options if o.id in r.selection and o.workload == w.name), None)
    return None if days is None else days + req.lead_time_days


def _domestic(probe: _Probe, req: PurchaseRequest) -> Relaxation | None:
    cur = req.policy.min_domestic_share
    if cur <= 0:
        return None
    field = "policy.min_domestic_share"

    def ok(pct: int) -> bool:  # pct counted downwards: ok(k) means a share of (top - k) % is feasible
        return probe.ok(changed(req, {field: (top - pct) / 100}))

    top = math.ceil(cur * 100 - 1e-9)
    base: dict[str, Any] = {
        "kind": "domestic_share", "constraint": "domestic_share", "field": field, "current": cur, "unit": "fraction"
    }
    if not ok(top):
        return Relaxation(feasible=False, reason="insufficient_alone", **base)
    k = bisect_first(ok, 0, top)
    return Relaxation(feasible=True, verified=True, value=(top - k) / 100, **base)


def _license(probe: _Probe, req: PurchaseRequest, table: OptionTable) -> Relaxation | None:
    held = sorted(s for s, info in table.skus.items() if info.license_block)
    if req.accept_license_risk or not held:
        return None
    risky = changed(req, {"accept_license_risk": True})
    wider = build_table(probe.catalog, probe.engine, risky, probe.cache)
    probe.probes += 1
    r = solve(wider, objective=risky.resolved_objective, lexicographic=False, **probe.kw)
    base: dict[str, Any] = {
        "kind": "license_policy", "constraint": "policy", "field": "accept_license_risk", "current": False
    }
    if not r.status.ok:
        return Relaxation(feasible=False, reason="insufficient_alone", skus=held, **base)
    used = sorted({o.sku for o in wider.options if o.id in r.selection} & set(held))
    return Relaxation(feasible=True, verified=True, value=True, skus=used, **base)


def _policy(probe: _Probe, table: OptionTable, objective: ModelObjective) -> Relaxation | None:
    blocked = {o.sku for o in table.options if o.blocked and table.skus[o.sku].license_block is None}
    if not blocked:
        return None
    lifted = with_policy_blocks_lifted(table, reasons={table.skus[s].decision.reason for s in blocked})
    r = solve(lifted, objective=objective, lexicographic=False, **probe.kw)
    if not r.status.ok:
        return Relaxation(kind="policy", constraint="policy", feasible=False, reason="insufficient_alone",
                          skus=sorted(blocked))
    sku_of = {o.id: o.sku for o in lifted.options}
    used = sorted({sku_of[i] for i in r.selection} & blocked)
    return Relaxation(kind="policy", constraint="policy", feasible=True, verified=True, skus=used)


def _power(probe: _Probe, req: PurchaseRequest, table: OptionTable) -> Relaxation | None:
    cap = req.limits.power_kw
    if cap is None:
        return None
    base: dict[str, Any] = {
        "kind": "power", "constraint": "power", "field": "limits.power_kw", "current": cap, "unit": "kW"
    }

    def ok(kw: int) -> bool:
        return probe.ok(changed(req, {"limits.power_kw": float(kw)}))

    r = solve(table, objective="min_power", disabled={"power"}, lexicographic=False, **probe.kw)
    top = int(MAX_POWER_KW)
    guess = top
    if r.status.ok:
        guess = min(top, max(math.floor(cap) + 1, math.ceil(sum(o.power_kw * r.selection[o.id] for o in
                                                                 table.options if o.id in r.selection))))
    if not ok(guess):
        if not ok(top):
            return Relaxation(feasible=False, reason="insufficient_alone", **base)
        guess = _gallop(ok, math.floor(cap), top)
    value = bisect_first(ok, math.floor(cap), guess)
    return Relaxation(feasible=True, verified=True, value=float(value), **base)


def _racks(probe: _Probe, req: PurchaseRequest) -> Relaxation | None:
    racks = req.limits.racks
    if racks is None:
        return None
    base: dict[str, Any] = {
        "kind": "racks", "constraint": "racks", "field": "limits.racks", "current": float(racks), "unit": "racks"
    }

    def ok(n: int) -> bool:
        return probe.ok(changed(req, {"limits.racks": n}))

    top = 1_000_000
    if not ok(top):
        return Relaxation(feasible=False, reason="insufficient_alone", **base)
    value = bisect_first(ok, racks, _gallop(ok, racks, top))
    return Relaxation(feasible=True, verified=True, value=float(value), **base)


def _supply(probe: _Probe, req: PurchaseRequest, table: OptionTable, objective: ModelObjective) -> list[Relaxation]:
    if not table.supply:
        return []
    r = solve(table, objective=objective, disabled={"supply"}, lexicographic=False, **probe.kw)
    if not r.status.ok:
        return [Relaxation(kind="supply", constraint="supply", feasible=False, reason="insufficient_alone")]
    opts = {o.id: o for o in table.options}
    updates: dict[str, int] = {}
    for sku, limit in table.supply.items():
        used = sum(opts[i].accelerators * n for i, n in r.selection.items() if opts[i].sku == sku)
        if used > limit:
            updates[sku] = used
    if not updates:
        return []
    supply = {**req.limits.supply, **updates}
    verified = probe.ok(changed(req, {"limits.supply": supply}))
    return [Relaxation(kind="supply", constraint=f"supply[{sku}]", feasible=True, verified=verified,
                       field=f"limits.supply.{sku}", current=float(table.supply[sku]), value=float(n),
                       unit="accelerators", skus=[sku]) for sku, n in updates.items()]


def _vendor_share(probe: _Probe, req: PurchaseRequest) -> Relaxation | None:
    cap = req.policy.max_vendor_share
    if cap >= 1:
        return None
    base: dict[str, Any] = {
        "kind": "vendor_share", "constraint": "vendor_share", "field": "policy.max_vendor_share", "current": cap,
                "unit": "fraction"
    }
    top = 100
    start = math.floor(cap * 100 + 1e-9)

    def ok(pct: int) -> bool:
        return probe.ok(changed(req, {"policy.max_vendor_share": pct / 100}))

    if not ok(top):
        return Relaxation(feasible=False, reason="insufficient_alone", **base)
    value = bisect_first(ok, start, top)
    return Relaxation(feasible=True, verified=True, value=value / 100, **base)


# ---------------------------------------------------------------------------- pairs
_LOOSE: dict[str, Callable[[PurchaseRequest], dict[str, Any]]] = {
    "budget": lambda r: {"budget.amount": MAX_MONEY} if r.budget else {},
    "deadline": lambda r: {f"workloads.{w.name}.deadline_days": float(MAX_DEADLINE_DAYS) for w in r.workloads
                           if isinstance(w, TrainingWorkload) and w.deadline_days is not None},
    "domestic_share": lambda r: {"policy.min_domestic_share": 0.0} if r.policy.min_domestic_share > 0 else {},
    "license_policy": lambda r: {} if r.accept_license_risk else {"accept_license_risk": True},
}


def _single(probe: _Probe, req: PurchaseRequest, kind: str) -> list[Relaxation]:
    if kind == "budget":
        r = _budget(probe, req, None)
        return [r] if r else []
    if kind == "deadline":
        return [_deadline(probe, req, w) for w in req.workloads
                if isinstance(w, TrainingWorkload) and w.deadline_days is not None]
    if kind == "domestic_share":
        r = _domestic(probe, req)
        return [r] if r else []
    table = build_table(probe.catalog, probe.engine, req, probe.cache)
    r = _license(probe, req, table)
    return [r] if r else []


def _pairs(probe: _Probe, req: PurchaseRequest, kinds: list[str]) -> list[Relaxation]:
    out: list[Relaxation] = []
    for i, first in enumerate(kinds):
        for second in kinds[i + 1:]:
            loose = _LOOSE[first](req)
            if not loose:
                continue
            widened = changed(req, loose)
            seconds = [r for r in _single(probe, widened, second) if r.feasible]
            if not seconds or not probe.ok(_apply(widened, seconds)):
                continue
            narrowed = _apply(req, seconds)  # keep the second change, tighten the first again
            firsts = [r for r in _single(probe, narrowed, first) if r.feasible]
            if not firsts:
                continue
            both = [*firsts, *seconds]
            verified = probe.ok(_apply(req, both))
            out.append(Relaxation(kind="pair", constraint=f"{first}+{second}", feasible=True, verified=verified,
                                  pair=both))
            if len(out) >= 2:
                return out
    return out


def _apply(req: PurchaseRequest, changes: list[Relaxation]) -> PurchaseRequest:
    return changed(req, {c.field: c.value for c in changes if c.field is not None})


# ---------------------------------------------------------------------------- entry point
def relaxations(catalog: Catalog, engine: ComplianceEngine, table: OptionTable, objective: ModelObjective, *,
                cache: EstimateCache | None = None, stats: dict[str, int] | None = None,
                **kw: Any) -> list[Relaxation]:
    """Relaxations of an infeasible request.

    The smallest change of each constraint that alone makes the request feasible, verified by re-solving, and pairs
    of changes when no single one suffices. ``stats`` (if given) receives the number of re-solved requests.
    """
    req = table.request
    probe = _Probe(catalog, engine, cache or EstimateCache(), kw)
    out: list[Relaxation] = []
    b = _budget(probe, req, table)
    if b:
        out.append(b)
    out += [_deadline(probe, req, w) for w in req.workloads
            if isinstance(w, TrainingWorkload) and w.deadline_days is not None]
    for found in (_domestic(probe, req), _license(probe, req, table), _policy(probe, table, objective),
                  _power(probe, req, table), _racks(probe, req), _vendor_share(probe, req)):
        if found:
            out.append(found)
    out += _supply(probe, req, table, objective)
    fabric = sorted({e.sku for e in table.exclusions if e.category == "fabric"})
    if fabric:
        out.append(Relaxation(kind="fabric", constraint="fabric", feasible=False, reason="needs_fabric", skus=fabric))
    if not any(r.feasible for r in out):
        kinds = [k for k in ("license_policy", "budget", "deadline", "domestic_share") if _LOOSE[k](req)]
        out += _pairs(probe, req, kinds)
    if stats is not None:
        stats["probes"] = probe.probes
    return out


__all__ = ["MAX_DEADLINE_DAYS", "changed", "relaxations"]
