"""One module per constraint family. Each adds its constraints and reports its slack for a selection.

Every module has a stable ``name`` (used in ``binding_constraints`` and in relaxations), a
``build(model, vars, ctx)`` that adds constraints, and ``slack(selection, table)`` that says how much
room a selection leaves (a fraction of the limit; 0 = binding; negative = violated).
"""

from __future__ import annotations

import abc
import math
from dataclasses import dataclass, field

from optimizer.cpsat import cp_model
from optimizer.model.variables import TOKENS_SCALE, PurchaseVars
from optimizer.request import InferenceWorkload, TrainingWorkload
from optimizer.selection import Selection, domestic_share, job_days, selection_cost

__all__ = [
    "DEFAULT_MODULES",
    "BuildContext",
    "ConstraintModule",
    "Selection",
    "domestic_share",
    "job_days",
    "selection_cost",
]
from optimizer.table import OptionTable
from optimizer.units import MONEY_UNIT, POWER_UNIT_KW, deadline_units


@dataclass
class BuildContext:
    """Settings shared by modules while building one model."""

    makespan: cp_model.IntVar | None = None
    makespan_cap: int | None = None  # TIME units; Pareto / lexicographic steps
    cost_cap: int | None = None  # MONEY units; lexicographic step
    notes: list[str] = field(default_factory=list)


class ConstraintModule(abc.ABC):
    """A family of constraints."""

    name: str = "constraint"

    @abc.abstractmethod
    def build(self, model: cp_model.CpModel, v: PurchaseVars, ctx: BuildContext) -> None:
        """Add the family's constraints."""

    def slack(self, selection: Selection, table: OptionTable) -> dict[str, float]:
        """Remaining room per named limit as a fraction (empty when the family has no limit)."""
        return {}


def _opts(table: OptionTable) -> dict[str, object]:
    return {o.id: o for o in table.options}


class WorkloadCoverage(ConstraintModule):
    """Each training job gets one pool (or a mixed pool if allowed); each service gets enough capacity."""

    name = "coverage"

    def build(self, model: cp_model.CpModel, v: PurchaseVars, ctx: BuildContext) -> None:
        """Exactly one pool per training job; capacity ≥ request rate per service."""
        req = v.table.request
        for w in req.workloads:
            opts = v.table.for_workload(w.name)
            if isinstance(w, TrainingWorkload):
                pools = [v.units(o.id) for o in opts]
                if not pools:
                    model.add_bool_or([])  # infeasible: nothing can run this job
                    continue
                if req.allow_mixed_pools:
                    model.add(sum(pools) >= 1)
                    for sku in {o.sku for o in opts}:  # at most one pool size per SKU
                        model.add(sum(v.units(o.id) for o in opts if o.sku == sku) <= 1)
                else:
                    model.add_exactly_one(pools)
            else:
                assert isinstance(w, InferenceWorkload)
                need = math.ceil(w.requests_per_s * 1000.0)
                cap = [(v.units(o.id), v.ints[o.id].capacity or 0) for o in opts]
                if not cap:
                    model.add_bool_or([])
                    continue
                model.add(cp_model.LinearExpr.weighted_sum([c[0] for c in cap], [c[1] for c in cap]) >= need)


class Deadlines(ConstraintModule):
    """Training jobs finish within their deadlines (and within the makespan variable)."""

    name = "deadline"

    def build(self, model: cp_model.CpModel, v: PurchaseVars, ctx: BuildContext) -> None:
        """Time of the chosen pool ≤ deadline; makespan ≥ every job's time."""
        req = v.table.request
        for w in req.workloads:
            if not isinstance(w, TrainingWorkload):
                continue
            opts = v.table.for_workload(w.name)
            if not opts:
                continue
            if req.allow_mixed_pools:
                self._mixed(model, v, ctx, w, opts)
                continue
            time = cp_model.LinearExpr.weighted_sum([v.units(o.id) for o in opts],
                                                    [v.ints[o.id].days or 0 for o in opts])
            limit = req.run_deadline(w)
            if limit is not None:
                model.add(time <= deadline_units(limit))
            if ctx.makespan is not None:
                model.add(ctx.makespan >= time)

    def _mixed(self, model: cp_model.CpModel, v: PurchaseVars, ctx: BuildContext, w: TrainingWorkload,
               opts: list) -> None:  # type: ignore[type-arg]
        req = v.table.request
        # Throughput of the pool; a mixed pool (2+ SKUs) runs at `mixed_pool_penalty` of the sum.
        tput = [v.ints[o.id].throughput or 0 for o in opts]
        xs = [v.units(o.id) for o in opts]
        mixed = model.new_bool_var(f"mixed[{w.name}]")
        model.add(sum(xs) >= 2).only_enforce_if(mixed)
        model.add(sum(xs) <= 1).only_enforce_if(~mixed)
        total = model.new_int_var(0, sum(tput), f"throughput[{w.name}]")
        pen = int(round(req.mixed_pool_penalty * 1000))
        zs = []
        for x, o in zip(xs, opts, strict=True):
            z = model.new_bool_var(f"mixed_use[{o.id}]")
            model.add_multiplication_equality(z, [x, mixed])
            zs.append(z)
        # 1000·total ≤ Σ 1000·τ·x − (1000 − pen)·Σ τ·z
        model.add(1000 * total <= cp_model.LinearExpr.weighted_sum(xs, [1000 * t for t in tput])
                  - cp_model.LinearExpr.weighted_sum(zs, [(1000 - pen) * t for t in tput]))
        tokens_scaled = math.ceil(w.tokens / TOKENS_SCALE)
        horizon = 36500 * 100
        time = model.new_int_var(0, horizon, f"time[{w.name}]")
        # time[units of 0.01 day] · throughput[1000 tok/s] · 864 ≥ tokens/1000  (0.01 day = 864 s)
        prod = model.new_int_var(0, horizon * (sum(tput) or 1), f"time_x_tput[{w.name}]")
        model.add_multiplication_equality(prod, [time, total])
        model.add(864 * prod >= tokens_scaled)
        limit = req.run_deadline(w)
        if limit is not None:
            model.add(time <= deadline_units(limit))
        if ctx.makespan is not None:
            model.add(ctx.makespan >= time)

    def slack(self, selection: Selection, table: OptionTable) -> dict[str, float]:
        """Unused fraction of each deadline."""
        out = {}
        for w in table.request.workloads:
            limit = table.request.run_deadline(w) if isinstance(w, TrainingWorkload) else None
            if isinstance(w, TrainingWorkload) and limit:
                days = job_days(selection, table, w)
                if days is not None:
                    out[f"deadline[{w.name}]"] = 1 - days / limit
        return out


class Budget(ConstraintModule):
    """Capex + opex over the horizon stays within the budget."""

    name = "budget"

    def build(self, model: cp_model.CpModel, v: PurchaseVars, ctx: BuildContext) -> None:
        """Σ cost ≤ budget (money units, rounded down)."""
        b = v.table.request.budget
        if b is None:
            return
        model.add(v.cost() <= math.floor(b.amount / MONEY_UNIT + 1e-9))

    def slack(self, selection: Selection, table: OptionTable) -> dict[str, float]:
        """Unused share of the budget."""
        b = table.request.budget
        if b is None:
            return {}
        return {"budget": 1 - selection_cost(selection, table) / b.amount}


class PowerCap(ConstraintModule):
    """Facility power (IT × PUE at average load) within the cap."""

    name = "power"

    def build(self, model: cp_model.CpModel, v: PurchaseVars, ctx: BuildContext) -> None:
        """Σ power ≤ cap."""
        cap = v.table.request.limits.power_kw
        if cap is None:
            return
        model.add(v.power() <= math.floor(cap / POWER_UNIT_KW + 1e-9))

    def slack(self, selection: Selection, table: OptionTable) -> dict[str, float]:
        """Unused share of the power cap."""
        cap = table.request.limits.power_kw
        if cap is None:
            return {}
        opts = {o.id: o for o in table.options}
        return {"power": 1 - sum(opts[i].power_kw * n for i, n in selection.items()) / cap}


class RackSpace(ConstraintModule):
    """Nodes fit in the racks."""

    name = "racks"

    def build(self, model: cp_model.CpModel, v: PurchaseVars, ctx: BuildContext) -> None:
        """Σ nodes ≤ racks × nodes per rack."""
        lim = v.table.request.limits
        if lim.racks is None:
            return
        model.add(v.nodes() <= lim.racks * lim.nodes_per_rack)

    def slack(self, selection: Selection, table: OptionTable) -> dict[str, float]:
        """Unused share of rack space."""
        lim = table.request.limits
        if lim.racks is None:
            return {}
        opts = {o.id: o for o in table.options}
        used = sum(opts[i].nodes * n for i, n in selection.items())
        return {"racks": 1 - used / (lim.racks * lim.nodes_per_rack)}


class Supply(ConstraintModule):
    """No more accelerators of a SKU than can be obtained."""

    name = "supply"

    def build(self, model: cp_model.CpModel, v: PurchaseVars, ctx: BuildContext) -> None:
        """Σ accelerators of SKU ≤ supply limit."""
        for sku, limit in _supply(v.table).items():
            model.add(v.accelerators(sku=sku) <= limit)

    def slack(self, selection: Selection, table: OptionTable) -> dict[str, float]:
        """Unused share of each supply limit."""
        opts = {o.id: o for o in table.options}
        out = {}
        for sku, limit in _supply(table).items():
            used = sum(opts[i].accelerators * n for i, n in selection.items() if opts[i].sku == sku)
            if limit:
                out[f"supply[{sku}]"] = 1 - used / limit
        return out


def _supply(table: OptionTable) -> dict[str, int]:
    return table.supply


class Admissibility(ConstraintModule):
    """Parts the buyer policy blocks (licence treatment, restrictive guidance, vendor lists) are not bought."""

    name = "policy"

    def build(self, model: cp_model.CpModel, v: PurchaseVars, ctx: BuildContext) -> None:
        """Fix blocked options to zero."""
        for o in v.table.options:
            if o.blocked is not None:
                model.add(v.units(o.id) == 0)


class DomesticShare(ConstraintModule):
    """At least the minimum share of accelerators comes from Chinese vendors."""

    name = "domestic_share"

    def build(self, model: cp_model.CpModel, v: PurchaseVars, ctx: BuildContext) -> None:
        """100·domestic ≥ share%·all."""
        share = v.table.request.policy.min_domestic_share
        if share <= 0:
            return
        pct = math.ceil(share * 1000 - 1e-9)
        model.add(1000 * v.accelerators(domestic=True) >= pct * v.accelerators())

    def slack(self, selection: Selection, table: OptionTable) -> dict[str, float]:
        """Domestic share above the minimum (as a fraction of the minimum)."""
        share = table.request.policy.min_domestic_share
        if share <= 0:
            return {}
        dom, total = domestic_share(selection, table)
        return {"domestic_share": (dom / total - share) / share if total else 0.0}


class VendorCap(ConstraintModule):
    """No vendor supplies more than the maximum share of accelerators."""

    name = "vendor_share"

    def build(self, model: cp_model.CpModel, v: PurchaseVars, ctx: BuildContext) -> None:
        """1000·vendor ≤ cap‰·all for every vendor."""
        cap = v.table.request.policy.max_vendor_share
        if cap >= 1:
            return
        permille = math.floor(cap * 1000 + 1e-9)
        for vendor in sorted({o.vendor for o in v.table.options}):
            model.add(1000 * v.accelerators(vendor=vendor) <= permille * v.accelerators())

    def slack(self, selection: Selection, table: OptionTable) -> dict[str, float]:
        """Room under the vendor cap for the largest vendor."""
        cap = table.request.policy.max_vendor_share
        if cap >= 1:
            return {}
        opts = {o.id: o for o in table.options}
        total = sum(opts[i].accelerators * n for i, n in selection.items())
        if not total:
            return {}
        per: dict[str, int] = {}
        for i, n in selection.items():
            per[opts[i].vendor] = per.get(opts[i].vendor, 0) + opts[i].accelerators * n
        return {"vendor_share": (cap - max(per.values()) / total) / cap}


DEFAULT_MODULES: tuple[type[ConstraintModule], ...] = (
    WorkloadCoverage, Deadlines, Budget, PowerCap, RackSpace, Supply, Admissibility, DomesticShare, VendorCap,
)
"""Constraint families in build order."""
