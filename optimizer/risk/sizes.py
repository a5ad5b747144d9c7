"""Pool sizes a hedge needs: the fewest nodes that still meet a deadline after a delay.

Today's option table offers, per part, the smallest pool, the fewest nodes that meet the deadline and the largest
pool the limits allow. A hedge against a late delivery (or a replacement bought after a revocation) needs pools
that finish early enough to absorb the slip, so for the most likely slips Δ of the scenario set the table is
rebuilt as if the lead time were Δ days longer and the new sizes are added. Prices and times of the added options
come from the same estimator and cost model as every other option.
"""

from __future__ import annotations

from collections import Counter

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.request import TrainingWorkload
from optimizer.risk.sampling import ScenarioSet
from optimizer.table import EstimateCache, OptionTable, build_table

MAX_SLIPS = 4
"""Most delays for which extra pool sizes are added (the most likely ones)."""


def likely_slips(sset: ScenarioSet, recourse_lead_days: float, limit: int = MAX_SLIPS) -> list[float]:
    """The delays (whole days) a plan must absorb most often: delivery slips and re-order start days."""
    weight: Counter[int] = Counter()
    for s in sset.scenarios:
        seen: set[int] = set()
        for st in s.states.values():
            if st.delay > 0:
                seen.add(round(st.delay))
            if st.disrupted_at is not None:
                seen.add(round(st.disrupted_at + recourse_lead_days))
        for d in seen:
            if d > 0:
                weight[d] += s.weight
    return sorted(d for d, _ in sorted(weight.items(), key=lambda kv: (-kv[1], kv[0]))[:limit])


def with_slip_sizes(catalog: Catalog, engine: ComplianceEngine, table: OptionTable, slips: list[float],
                    cache: EstimateCache | None = None) -> OptionTable:
    """``table`` plus, for each slip, the training pools that meet every deadline that many days sooner."""
    req = table.request
    deadlines = [w.deadline_days for w in req.workloads if isinstance(w, TrainingWorkload) and w.deadline_days]
    if not deadlines or not slips:
        return table
    options = {o.id: o for o in table.options}
    for slip in slips:
        if all(req.lead_time_days + slip >= d for d in deadlines):
            continue
        variant = req.model_copy(update={"lead_time_days": req.lead_time_days + slip})
        for o in build_table(catalog, engine, variant, cache).options:
            if o.kind == "training":
                options.setdefault(o.id, o)
    if len(options) == len(table.options):
        return table
    ordered = sorted(options.values(), key=lambda o: (o.workload, o.sku, o.nodes))
    return OptionTable(request=req, currency=table.currency, options=ordered, exclusions=table.exclusions,
                       skus=table.skus, supply=dict(table.supply), notes=list(table.notes), switching=table.switching)
