"""Exhaustive enumeration of small option tables: the test oracle for the CP-SAT model."""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator

from optimizer.model.objectives import ModelObjective
from optimizer.model.variables import to_int
from optimizer.request import TrainingWorkload
from optimizer.table import OptionTable
from optimizer.validate import check_selection

_LIMIT = 2_000_000


def _choices(table: OptionTable) -> list[list[dict[str, int]]]:
    per_workload: list[list[dict[str, int]]] = []
    for w in table.request.workloads:
        opts = [o for o in table.for_workload(w.name) if o.blocked is None]
        if isinstance(w, TrainingWorkload):
            if table.request.allow_mixed_pools:
                by_sku: dict[str, list[str]] = {}
                for o in opts:
                    by_sku.setdefault(o.sku, []).append(o.id)
                combos: list[dict[str, int]] = []
                for pick in itertools.product(*[[None, *ids] for ids in by_sku.values()]):
                    chosen = {i: 1 for i in pick if i is not None}
                    if chosen:
                        combos.append(chosen)
                per_workload.append(combos)
            else:
                per_workload.append([{o.id: 1} for o in opts])
        else:
            ranges = [range(o.max_units + 1) for o in opts]
            combos = []
            for counts in itertools.product(*ranges):
                combos.append({o.id: n for o, n in zip(opts, counts, strict=True) if n})
            per_workload.append(combos)
    return per_workload


def enumerate_selections(table: OptionTable) -> Iterator[dict[str, int]]:
    """Every combination of per-workload choices (raises if the space exceeds two million)."""
    per = _choices(table)
    size = math.prod(len(p) for p in per) if per else 0
    if size > _LIMIT:
        raise ValueError(f"{size} combinations are too many to enumerate")
    for combo in itertools.product(*per):
        merged: dict[str, int] = {}
        for part in combo:
            merged.update(part)
        yield merged


def porting_units(table: OptionTable, sel: dict[str, int]) -> int:
    """One porting charge per (workload, foreign family) the selection uses, in money units (rounded up)."""
    sw = table.switching
    if sw is None:
        return 0
    opts = {o.id: o for o in table.options}
    pairs = {(opts[i].workload, opts[i].kind, sw.families[opts[i].sku]) for i, n in sel.items() if n}
    return sum(math.ceil(sw.terms[f].porting(kind) / 1000 - 1e-9) for _, kind, f in pairs if f != sw.current)


def brute_force(table: OptionTable, objective: ModelObjective) -> tuple[int, int] | None:
    """Best (primary, secondary) integer objective over all feasible selections, or None if infeasible.

    Uses the model's integer scaling, so the result is directly comparable with a CP-SAT solve.
    """
    ints = {o.id: to_int(o) for o in table.options}
    best: tuple[int, int] | None = None
    for sel in enumerate_selections(table):
        if not check_selection(table, sel).ok or not _int_feasible(table, sel, ints):
            continue
        cost = sum(ints[i].cost * n for i, n in sel.items()) + porting_units(table, sel)
        days = [ints[i].days or 0 for i in sel if ints[i].days is not None]
        span = max(days) if days else 0
        key = (cost, span) if objective == "min_cost" else (span, cost)
        if best is None or key < best:
            best = key
    return best


def _int_feasible(table: OptionTable, sel: dict[str, int], ints: dict) -> bool:  # type: ignore[type-arg]
    """The integer-rounded limits the model enforces (costs and times rounded up, capacity down)."""
    req = table.request
    if req.budget is not None:
        cost = sum(ints[i].cost * n for i, n in sel.items()) + porting_units(table, sel)
        if cost > math.floor(req.budget.amount / 1000 + 1e-9):
            return False
    if req.limits.power_kw is not None:
        if sum(ints[i].power * n for i, n in sel.items()) > math.floor(req.limits.power_kw / 0.1 + 1e-9):
            return False
    for w in req.workloads:
        if isinstance(w, TrainingWorkload) and (limit := req.run_deadline(w)) is not None:
            for i in sel:
                o = ints[i].option
                if o.workload == w.name and ints[i].days > math.floor(limit / 0.01 + 1e-9):
                    return False
        elif not isinstance(w, TrainingWorkload):
            cap = sum((ints[i].capacity or 0) * n for i, n in sel.items() if ints[i].option.workload == w.name)
            if cap < math.ceil(w.requests_per_s * 1000.0):
                return False
    return True
