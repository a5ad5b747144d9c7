"""Pure arithmetic on a selection (option id → units): cost, job time, domestic share.

Shared by the CP-SAT constraint modules, the validator and the brute-force oracle; no solver import here.
"""

from __future__ import annotations

from collections.abc import Mapping

from optimizer.request import TrainingWorkload
from optimizer.switching import porting_charges
from optimizer.table import OptionTable

Selection = Mapping[str, int]


def selection_cost(selection: Selection, table: OptionTable) -> float:
    """Total cost of a selection (floats, no rounding), with the porting it pays to leave the current stack."""
    opts = {o.id: o for o in table.options}
    hardware = sum(opts[i].cost * n for i, n in selection.items())
    if table.switching is None:
        return hardware
    return hardware + sum(c.cost for c in porting_charges(table.switching, opts, selection))


def switching_cost(selection: Selection, table: OptionTable) -> float:
    """One-time porting a selection pays: once per workload and foreign ecosystem family it uses."""
    if table.switching is None:
        return 0.0
    opts = {o.id: o for o in table.options}
    return sum(c.cost for c in porting_charges(table.switching, opts, selection))


def job_days(selection: Selection, table: OptionTable, w: TrainingWorkload) -> float | None:
    """Wall-clock days of a training job under a selection (pooled throughput for mixed pools)."""
    opts = [o for o in table.options if o.workload == w.name and selection.get(o.id)]
    if not opts:
        return None
    if len(opts) == 1:
        return opts[0].days
    tput = sum(o.tokens_per_s or 0 for o in opts) * table.request.mixed_pool_penalty
    return w.tokens / tput / 86400 if tput else None


def domestic_share(selection: Selection, table: OptionTable) -> tuple[int, int]:
    """(domestic accelerators, all accelerators) of a selection."""
    opts = {o.id: o for o in table.options}
    dom = sum(opts[i].accelerators * n for i, n in selection.items() if opts[i].domestic)
    total = sum(opts[i].accelerators * n for i, n in selection.items())
    return dom, total
