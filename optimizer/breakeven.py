"""Break-even prices: for an admissible part with no sourced price, the highest price at which it enters the plan.

The search runs on the real model. For a probed price the part gets a hypothetical per-accelerator price (grade A,
source ``BREAK-EVEN``); its options are rebuilt by the same table code as every other part (a node of it costs its
accelerators plus the server overhead, as for any part priced per accelerator) and spliced into the request's
option table, which does not depend on the part's price otherwise. The request is then re-solved. Whether the part
is chosen falls from "yes" to "no" as its price rises, so a bracket found from a linear first guess is narrowed
by geometric bisection until the two prices are within 1 %. Every probe solves like the plan itself (the
lexicographic objective: the cheapest, then the fastest; or the fastest, then the cheapest), so a part that only ties
the plan on the first objective is not counted as chosen; both ends are solved once more to verify them, and the plan
at the lower price is reported.

A part whose performance or power figures are unknown gets no price: the figures missing are named instead, with
how to supply them (a user catalog file).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable
from dataclasses import dataclass

from optimizer.catalog import Accelerator, Catalog, PriceRange
from optimizer.catalog.schema import Source
from optimizer.compliance import ComplianceEngine
from optimizer.estimator.cost import node_price
from optimizer.model.objectives import ModelObjective
from optimizer.plan import AlternativeItem, BreakEvenPrice, PurchasePlan
from optimizer.request import InferenceWorkload, PurchaseRequest, TrainingWorkload
from optimizer.selection import selection_cost
from optimizer.solve import SolveResult, makespan_of, solve
from optimizer.table import EstimateCache, OptionTable, build_table
from optimizer.whatif import _bisect_geometric

BREAK_EVEN_SOURCE = "BREAK-EVEN"
"""Source id of the hypothetical prices probed by the search (never shown as a sourced price)."""
TOLERANCE = 0.01
"""The two prices that bracket a break-even are at most 1 % apart."""
_FLOOR, _CEIL = 1e-3, 1e3
"""The search spans 1/1000 to 1000 times the reference price."""


@dataclass
class _Search:
    """Probes one part's price on the real model."""

    catalog: Catalog
    engine: ComplianceEngine
    table: OptionTable
    sku: str
    objective: ModelObjective
    cache: EstimateCache
    kw: dict[str, float]
    probes: int = 0

    def table_at(self, price: float) -> OptionTable:
        """The request's option table with the part priced at ``price`` per accelerator (request currency)."""
        cat = with_price(self.catalog, self.sku, price, self.table.currency, self.table.request.buyer.date)
        req = self.table.request.model_copy(update={"skus": [self.sku]})
        part = build_table(cat, self.engine, req, self.cache)
        base = self.table
        return OptionTable(
            request=base.request, currency=base.currency,
            options=[o for o in base.options if o.sku != self.sku] + part.options,
            exclusions=[e for e in base.exclusions if e.sku != self.sku] + part.exclusions,
            skus={**base.skus, self.sku: part.skus[self.sku]}, supply=dict(base.supply), notes=list(base.notes),
            switching=base.switching)

    def solve_at(self, price: float, *, lexicographic: bool = True) -> tuple[OptionTable, SolveResult]:
        self.probes += 1
        table = self.table_at(price)
        return table, solve(table, objective=self.objective, lexicographic=lexicographic, **self.kw)  # type: ignore[arg-type]

    def chosen(self, price: float, *, lexicographic: bool = True) -> bool:
        table, r = self.solve_at(price, lexicographic=lexicographic)
        return r.status.ok and any(o.sku == self.sku for o in table.options if o.id in r.selection)


def with_price(catalog: Catalog, sku: str, price: float, currency: str, on: dt.date) -> Catalog:
    """A catalog copy in which ``sku`` has a hypothetical price per accelerator (grade A, source BREAK-EVEN)."""
    acc = catalog.accelerators[sku]
    p = PriceRange(currency=currency, low=price, base=price, high=price, basis="per_accelerator",  # type: ignore[arg-type]
                   date=on.isoformat(), source=(BREAK_EVEN_SOURCE,), grade="A",
                   note="Hypothetical price probed by a break-even search; not a reported price.")
    sources = {**catalog.sources, BREAK_EVEN_SOURCE: Source(title="Hypothetical price of a break-even search",
                                                            grade="A")}
    return dataclasses.replace(catalog, accelerators={**catalog.accelerators, sku: acc.model_copy(update={"price": p})},
                               sources=sources)


def missing_figures(catalog: Catalog, acc: Accelerator, request: PurchaseRequest) -> list[str]:
    """The catalog figures the estimator and cost model need for this request that the part lacks."""
    out: list[str] = []
    if not (acc.dense.bf16.known or acc.dense.fp16.known):
        out.append("dense.bf16 (or dense.fp16) TFLOPS")
    precisions = {w.precision for w in request.workloads}
    for precision in sorted(precisions - {"bf16", "fp16"}):
        if not acc.dense.get(precision).known:  # type: ignore[arg-type]
            out.append(f"dense.{precision} {'TOPS' if precision == 'int8' else 'TFLOPS'}")
    for name in ("memory_gb", "memory_bandwidth_tbps"):
        if not getattr(acc, name).known:
            out.append(name)
    nodes = catalog.nodes_for(acc.id)
    if not acc.tdp_w.known and not (nodes and nodes[0].power_kw.known):
        out.append("tdp_w (or the node's power_kw)")
    return out


def _how_to_supply(acc: Accelerator, missing: list[str]) -> str:
    fields = [m.split(" ")[0] for m in missing]
    figure = "{value: <number>, source: [MYSRC], grade: <P|S|W>}"
    first = fields[0]
    entry = f"dense: {{{first.split('.', 1)[1]}: {figure}}}" if first.startswith("dense.") else f"{first}: {figure}"
    return (f"add {', '.join(fields)} for {acc.id} to a catalog file, each figure with its value, source and grade "
            f"(e.g. `accelerators: [{{id: {acc.id}, {entry}}}]` with `sources: {{MYSRC: {{title: ...}}}}`), and pass "
            "it with --catalog (or the PROCURE_CATALOG_FILES setting for the service); the break-even price is then "
            "computed")


def candidates(table: OptionTable) -> list[str]:
    """Parts excluded only for want of a price that the compliance verdict and the buyer policy admit."""
    out: list[str] = []
    for e in table.exclusions:
        if e.category != "price" or e.why is None or e.why.code != "no_price" or e.sku in out:
            continue
        info = table.skus.get(e.sku)
        if info is None or not info.decision.admissible or info.license_block is not None:
            continue
        if any(x.sku == e.sku and x.category != "price" for x in table.exclusions):
            continue
        out.append(e.sku)
    return out


def _reference_price(catalog: Catalog, table: OptionTable) -> float:
    """A per-accelerator price to start from: the median sourced price of the admissible parts (request currency)."""
    rate = catalog.exchange_rate.cny_per_usd
    prices = []
    for sku, info in table.skus.items():
        acc = catalog.accelerators[sku]
        if acc.price is None or not info.decision.admissible:
            continue
        p = acc.price.base
        if acc.price.currency != table.currency:
            p = p * rate if table.currency == "CNY" else p / rate
        prices.append(p)
    if not prices:
        return 100_000.0 if table.currency == "CNY" else 15_000.0
    prices.sort()
    return prices[len(prices) // 2]


def _linear_guess(search: _Search, plan: PurchasePlan, ref: float) -> tuple[float, bool]:
    """A first guess from the part's option costs, which are linear in its price (cost = a + b·price)."""
    low = ref * 0.01  # cheap enough that the limits admit the large pools a low break-even needs
    t1, t2 = search.table_at(low), search.table_at(2 * low)
    c2 = {o.id: o.cost for o in t2.options if o.sku == search.sku}
    mine = sorted(((o, c2[o.id]) for o in t1.options if o.sku == search.sku and o.id in c2),
                  key=lambda oc: -oc[0].nodes)
    if not mine:
        return ref, False
    req = search.table.request
    guesses: list[float] = []
    for w in req.workloads:
        planned = [i for i in plan.items if i.workload == w.name]
        if not planned:
            continue
        spent = sum(i.total_cost for i in planned)
        for o, cost2 in mine:
            if o.workload != w.name:
                continue
            slope = (cost2 - o.cost) / low
            fixed = o.cost - slope * low
            if slope <= 0:
                continue
            if isinstance(w, InferenceWorkload):
                # capacity is bought in units: the part first replaces the plan's dearest capacity per request/s
                # (the plan may keep other parts for the rest)
                per_rps = max((i.total_cost / i.capacity_rps for i in planned if i.capacity_rps), default=None)
                if per_rps is not None and o.capacity_rps:
                    guesses.append((per_rps * o.capacity_rps - fixed) / slope)
                surplus = sum(i.capacity_rps or 0 for i in planned) - w.requests_per_s
                for i in planned:  # or enough units of the part replace all units of one planned part
                    need = max(0.0, (i.capacity_rps or 0) - surplus)
                    k = math.ceil(need / o.capacity_rps) if o.capacity_rps else 0
                    if k > 0:
                        guesses.append((i.total_cost - k * fixed) / (k * slope))
            elif search.objective == "min_time" and req.budget is not None:
                target = max((i.time_days or 0) for i in planned)
                if o.days is None or o.nodes < 2 or target <= 0:
                    continue
                # Pool time falls about as 1/nodes: the pool that just matches the plan's time, priced to the budget.
                need = o.nodes * o.days / target
                others = (plan.total_cost or 0) - spent
                per_fixed, per_slope = fixed / o.nodes, slope / o.nodes
                guesses.append(((req.budget.amount - others) / need - per_fixed) / per_slope)
                break  # the largest pool first: its scaling is the closest to the pool needed
            elif isinstance(w, TrainingWorkload):
                limit = req.run_deadline(w)
                if limit is None or (o.days is not None and o.days <= limit):
                    guesses.append((spent - fixed) / slope)
    best = max((g for g in guesses if g > 0), default=0.0)
    return (best, True) if best > 0 else (ref, False)


def _bracket(chosen: Callable[[float], bool], guess: float, floor: float, ceil: float, *, informed: bool = False
             ) -> tuple[float | None, float | None]:
    """(lo, hi): chosen at lo, not at hi, within 1 %.

    lo is None when the part is not chosen even at the floor; hi is None when it is chosen even at the ceiling.
    """
    guess = min(max(guess, floor), ceil)
    if chosen(guess):
        lo, step = guess, 1.05
        hi = None
        while hi is None:
            nxt = min(lo * step, ceil)
            if chosen(nxt):
                if nxt >= ceil:
                    return ceil, None
                lo, step = nxt, step * step
            else:
                hi = nxt
    else:
        if not informed and not chosen(floor):  # an uninformed guess: rule out a hopeless part in one probe
            return None, floor
        hi, step = guess, 1.05
        lo_found = None
        while lo_found is None:
            nxt = max(hi / step, floor)
            if chosen(nxt):
                lo_found = nxt
            elif nxt <= floor:
                return None, floor
            else:
                hi, step = nxt, step * step
        lo = lo_found
    if hi / lo > 1 + TOLERANCE:  # halve the log-ratio until it is within the tolerance
        steps = math.ceil(math.log2(math.log(hi / lo) / math.log1p(TOLERANCE)))
        lo, hi = _bisect_geometric(chosen, lo, hi, steps=steps)
    return lo, hi


def _why_not(search: _Search, plan: PurchasePlan, price: float) -> str:
    """Why the part loses even at ``price``: its own best option against the plan (or its exclusions)."""
    probe = search.table_at(price)
    mine = [o for o in probe.options if o.sku == search.sku]
    if not mine:
        return "; ".join(e.reason for e in probe.exclusions if e.sku == search.sku) or "no option for this request"
    req = search.table.request
    if search.objective == "min_time" and plan.time_days is not None:
        budget = req.budget.amount if req.budget else math.inf
        fast = [o for o in mine if o.days is not None and o.cost <= budget]
        if fast:
            best = min(fast, key=lambda o: o.days or math.inf)
            return (f"even at this price its fastest pool within the limits ({best.accelerators:,} accelerators) takes "
                    f"{best.days:,.1f} days against the plan's {plan.time_days:,.1f}")
    for w in req.workloads:
        limit = req.run_deadline(w) if isinstance(w, TrainingWorkload) else None
        if limit is None:
            continue
        mine_w = [o for o in mine if o.workload == w.name and o.days is not None]
        meets = [o for o in mine_w if (o.days or 0) <= limit]
        if mine_w and not meets:
            fastest = min(mine_w, key=lambda o: o.days or math.inf)
            return (f"even at this price no pool meets the {limit:,.0f}-day deadline of {w.name} (fastest within the "
                    f"limits: {fastest.days:,.1f} days on {fastest.accelerators:,} accelerators)")
        spent = sum(i.total_cost for i in plan.items if i.workload == w.name)
        if meets and search.objective == "min_cost":
            best = min(meets, key=lambda o: o.cost)
            return (f"even at this price its cheapest pool meeting the {limit:,.0f}-day deadline of {w.name} "
                    f"({best.accelerators:,} accelerators) costs {best.cost:,.0f} {probe.currency} (servers, network, "
                    f"power, hosting) against {spent:,.0f} in the plan")
    cheapest = min(mine, key=lambda o: o.cost)
    return (f"even at this price its cheapest option costs {cheapest.cost:,.0f} {probe.currency} (servers, power and "
            f"hosting) against the plan's {plan.total_cost or 0:,.0f}, or it misses a limit the plan meets")


def break_even_prices(catalog: Catalog, engine: ComplianceEngine, table: OptionTable, plan: PurchasePlan,
                      objective: ModelObjective, *, cache: EstimateCache | None = None, max_parts: int = 8,
                      time_limit_s: float = 5.0, num_workers: int = 1) -> list[BreakEvenPrice]:
    """Break-even prices of the unpriced admissible parts of a solved request (at most ``max_parts`` searched)."""
    if not plan.items:
        return []
    cache = cache or EstimateCache()
    kw = {"time_limit_s": time_limit_s, "num_workers": num_workers}
    ref = _reference_price(catalog, table)
    cur = table.currency
    out: list[BreakEvenPrice] = []
    searched = 0
    for sku in candidates(table):
        acc = catalog.accelerators[sku]
        missing = missing_figures(catalog, acc, table.request)
        if missing:
            out.append(BreakEvenPrice(sku=sku, name=acc.name, status="missing_figures", currency=cur, missing=missing,
                                      how_to_supply=_how_to_supply(acc, missing)))
            continue
        if searched >= max_parts:
            continue
        searched += 1
        out.append(_one(catalog, engine, table, plan, objective, sku, cache, kw, ref))
    return out


def _one(catalog: Catalog, engine: ComplianceEngine, table: OptionTable, plan: PurchasePlan,
         objective: ModelObjective, sku: str, cache: EstimateCache, kw: dict[str, float], ref: float
         ) -> BreakEvenPrice:
    acc = catalog.accelerators[sku]
    cur = table.currency
    search = _Search(catalog, engine, table, sku, objective, cache, kw)
    guess, informed = _linear_guess(search, plan, ref)
    lo, hi = _bracket(search.chosen, guess, ref * _FLOOR, ref * _CEIL, informed=informed)
    if lo is None:
        return BreakEvenPrice(sku=sku, name=acc.name, status="not_chosen", currency=cur, price=ref * _FLOOR,
                              reason=_why_not(search, plan, ref * _FLOOR), probes=search.probes)
    # Verify both ends by solving again from freshly built tables, and report the plan at the lower price.
    at_lo, r_lo = search.solve_at(lo)
    chosen_lo = r_lo.status.ok and any(o.sku == sku for o in at_lo.options if o.id in r_lo.selection)
    chosen_hi = hi is not None and search.chosen(hi)
    verified = chosen_lo and (hi is None or not chosen_hi)
    opts = {o.id: o for o in at_lo.options}
    items = sorted((AlternativeItem(workload=opts[i].workload, sku=opts[i].sku, accelerators=opts[i].accelerators * n)
                    for i, n in r_lo.selection.items()), key=lambda a: (a.workload, a.sku))
    per_node = at_lo.skus[sku].node_size
    priced = with_price(catalog, sku, lo, cur, table.request.buyer.date)
    node = node_price(priced, sku, cur, catalog.exchange_rate.cny_per_usd)[0].base  # type: ignore[arg-type]
    return BreakEvenPrice(
        sku=sku, name=acc.name, status="found" if hi is not None else "chosen_at_limit", currency=cur, price=lo,
        price_above=hi, node_price=node, accelerators_per_node=per_node, verified=verified, items=items,
        total_cost=selection_cost(r_lo.selection, at_lo) if r_lo.status.ok else None,
        time_days=makespan_of(r_lo.selection, at_lo) if r_lo.status.ok else None, probes=search.probes,
    )


__all__ = ["BREAK_EVEN_SOURCE", "TOLERANCE", "break_even_prices", "candidates", "missing_figures", "with_price"]
