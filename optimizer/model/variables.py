"""Decision variables of the purchase model and integer views of the option table."""

from __future__ import annotations

import math
from dataclasses import dataclass

from optimizer.cpsat import cp_model
from optimizer.table import Option, OptionTable
from optimizer.units import MONEY_UNIT, POWER_UNIT_KW, THROUGHPUT_UNIT, TIME_UNIT_DAYS, to_units

RPS_SCALE = 1000.0
"""Inference capacity is counted in milli-requests per second."""
TOKENS_SCALE = 1000.0
"""Training throughput is counted in thousands of tokens per second."""


@dataclass(frozen=True)
class IntOption:
    """An option with every quantity scaled to integers (costs and times rounded up, capacity down)."""

    option: Option
    cost: int
    power: int
    days: int | None
    capacity: int | None
    throughput: int | None


def to_int(option: Option) -> IntOption:
    """Scale an option: money in MONEY_UNIT, time in TIME_UNIT_DAYS, power in POWER_UNIT_KW (ceil)."""
    return IntOption(
        option=option,
        cost=math.ceil(option.cost / MONEY_UNIT - 1e-9),
        power=math.ceil(option.power_kw / POWER_UNIT_KW - 1e-9),
        days=None if option.days is None else to_units(option.days, TIME_UNIT_DAYS),  # as meets_deadline counts
        capacity=None if option.capacity_rps is None else int(option.capacity_rps * RPS_SCALE / THROUGHPUT_UNIT),
        throughput=None if option.tokens_per_s is None else int(option.tokens_per_s / TOKENS_SCALE),
    )


class PurchaseVars:
    """Variable container: one count per option (0/1 for a training pool, 0..max for inference nodes)."""

    def __init__(self, model: cp_model.CpModel, table: OptionTable) -> None:
        """Create the variables of every option in ``table``."""
        self.model = model
        self.table = table
        self.ints: dict[str, IntOption] = {o.id: to_int(o) for o in table.options}
        self.count: dict[str, cp_model.IntVar] = {}
        for o in table.options:
            upper = 1 if o.kind == "training" else o.max_units
            self.count[o.id] = model.new_int_var(0, upper, f"count[{o.id}]")
        self._used: dict[tuple[str, str], cp_model.IntVar] = {}
        self.porting: dict[tuple[str, str], tuple[cp_model.IntVar, int]] = {}
        """(workload, foreign ecosystem family) → (bool: the workload runs on that family, its porting cost)."""
        sw = table.switching
        if sw is not None:
            groups: dict[tuple[str, str], list[Option]] = {}
            for o in table.options:
                fam = sw.target(o.sku)
                if fam is not None:
                    groups.setdefault((o.workload, fam), []).append(o)
            for (w, fam), opts in sorted(groups.items()):
                # Fixed charge, exact: the boolean is 1 exactly when some option of the group is bought.
                b = model.new_bool_var(f"ports[{w},{fam}]")
                for o in opts:
                    model.add(self.count[o.id] <= (1 if o.kind == "training" else o.max_units) * b)
                model.add(b <= sum(self.count[o.id] for o in opts))
                charge = math.ceil(sw.terms[fam].porting(opts[0].kind) / MONEY_UNIT - 1e-9)
                self.porting[(w, fam)] = (b, charge)

    def units(self, option_id: str) -> cp_model.IntVar:
        """How many units of an option are bought."""
        return self.count[option_id]

    def used(self, workload: str, sku: str) -> cp_model.IntVar:
        """Boolean: the workload uses this SKU at all (created on demand)."""
        key = (workload, sku)
        if key not in self._used:
            b = self.model.new_bool_var(f"uses[{workload},{sku}]")
            opts = [o for o in self.table.options if o.workload == workload and o.sku == sku]
            total = sum(self.count[o.id] for o in opts)
            bound = sum(o.max_units for o in opts) or 1
            self.model.add(total >= 1).only_enforce_if(b)
            self.model.add(total <= bound * b)
            self._used[key] = b
        return self._used[key]

    def cost(self) -> cp_model.LinearExpr:
        """Total cost (capex + opex over the horizon, plus one-time porting to other stacks) in money units."""
        return cp_model.LinearExpr.weighted_sum(
            [self.count[i] for i in self.ints] + [b for b, _ in self.porting.values()],
            [v.cost for v in self.ints.values()] + [c for _, c in self.porting.values()])

    def accelerators(self, *, sku: str | None = None, vendor: str | None = None,
                     domestic: bool | None = None) -> cp_model.LinearExpr:
        """Accelerators bought, optionally filtered."""
        ids = [o.id for o in self.table.options if (sku is None or o.sku == sku)
               and (vendor is None or o.vendor == vendor) and (domestic is None or o.domestic == domestic)]
        opts = {o.id: o for o in self.table.options}
        return cp_model.LinearExpr.weighted_sum([self.count[i] for i in ids], [opts[i].accelerators for i in ids])

    def nodes(self) -> cp_model.LinearExpr:
        """Nodes bought."""
        return cp_model.LinearExpr.weighted_sum([self.count[o.id] for o in self.table.options],
                                                [o.nodes for o in self.table.options])

    def power(self) -> cp_model.LinearExpr:
        """Facility power in POWER_UNIT_KW."""
        return cp_model.LinearExpr.weighted_sum([self.count[i] for i in self.ints],
                                                [v.power for v in self.ints.values()])

    def extract(self, solver: cp_model.CpSolver) -> dict[str, int]:
        """Units bought per option id (only non-zero)."""
        out = {}
        for oid, var in self.count.items():
            v = int(solver.value(var))
            if v:
                out[oid] = v
        return out
