"""Objectives of the purchase model; each returns a linear expression to minimise."""

from __future__ import annotations

from typing import Literal

from optimizer.cpsat import cp_model
from optimizer.model.constraints import BuildContext
from optimizer.model.variables import PurchaseVars

ModelObjective = Literal["min_cost", "min_time", "min_power", "min_nodes"]


def objective_expr(kind: ModelObjective, v: PurchaseVars, ctx: BuildContext) -> cp_model.LinearExprT:
    """Expression for an objective: total cost, makespan, facility power or node count."""
    if kind == "min_cost":
        return v.cost()
    if kind == "min_time":
        if ctx.makespan is None:
            return v.cost()  # no training job: nothing to speed up, so the cheapest plan
        return ctx.makespan
    if kind == "min_power":
        return v.power()
    return v.nodes()
