"""What-ifs: re-solve a request under a change and report the difference, plus break-even prices."""

from __future__ import annotations

import dataclasses
import datetime as dt
import math
from collections.abc import Callable

from pydantic import BaseModel, ConfigDict, Field, field_validator

from optimizer.catalog import Catalog
from optimizer.compliance import ComplianceEngine
from optimizer.errors import InvalidInputError
from optimizer.plan import PurchasePlan
from optimizer.recommend import recommend
from optimizer.request import MAX_MONEY, PurchaseRequest, TrainingWorkload
from optimizer.table import EstimateCache


class WhatIfChange(BaseModel):
    """One scenario: any combination of these changes is applied to the base request."""

    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)

    remove_skus: list[str] = Field(default_factory=list, description="SKUs that become unavailable.")
    price_changes: dict[str, float] = Field(
        default_factory=dict, description="Relative price change per SKU: 0.2 = +20%, -0.3 = −30%."
    )
    date: dt.date | None = Field(None, description="Evaluate the rules on this date instead.")
    rule_dates: dict[str, dt.date] = Field(default_factory=dict, description="Rule id → new effective date.")
    min_domestic_share: float | None = Field(None, ge=0, le=1)
    budget: float | None = Field(None, gt=0, le=MAX_MONEY)
    deadline_days: float | None = Field(None, gt=0, le=3650)

    @field_validator("price_changes")
    @classmethod
    def _price(cls, v: dict[str, float]) -> dict[str, float]:
        for sku, change in v.items():
            if change <= -1 or change > 10:
                raise ValueError(f"price change for {sku} must be above -100% and at most +1000% (got {change})")
        return v

    def describe(self) -> list[str]:
        """Human sentences for the change."""
        out = [f"{s} becomes unavailable" for s in self.remove_skus]
        out += [f"{s} price {c:+.0%}" for s, c in self.price_changes.items()]
        if self.date:
            out.append(f"rules evaluated on {self.date}")
        out += [f"rule {r} takes effect on {d}" for r, d in self.rule_dates.items()]
        if self.min_domestic_share is not None:
            out.append(f"minimum domestic share {self.min_domestic_share:.0%}")
        if self.budget is not None:
            out.append(f"budget {self.budget:,.0f}")
        if self.deadline_days is not None:
            out.append(f"deadline {self.deadline_days:g} days")
        return out


class BreakEven(BaseModel):
    """Price at which the ranking of two accelerators flips."""

    model_config = ConfigDict(frozen=True)

    sku: str
    role: str
    current_price: float | None
    break_even_price: float | None
    change: float | None
    currency: str
    basis: str
    message: str


class WhatIfResult(BaseModel):
    """Base plan, changed plan, and what changed."""

    model_config = ConfigDict(frozen=True)

    changes: list[str]
    base: PurchasePlan
    changed: PurchasePlan
    delta_cost: float | None
    delta_days: float | None
    skus_added: list[str]
    skus_removed: list[str]
    summary: str
    break_even: list[BreakEven] = Field(default_factory=list)


def scale_prices(catalog: Catalog, factors: dict[str, float]) -> Catalog:
    """A catalog copy with the accelerator and node prices of some SKUs multiplied by a factor."""
    accs = dict(catalog.accelerators)
    nodes = dict(catalog.nodes)
    for sku, factor in factors.items():
        acc = accs[sku]
        if acc.price is not None:
            p = acc.price
            accs[sku] = acc.model_copy(update={"price": p.model_copy(update={
                "low": p.low * factor, "base": p.base * factor, "high": p.high * factor})})
        for nid, node in nodes.items():
            if node.accelerator == sku and node.price is not None:
                p = node.price
                nodes[nid] = node.model_copy(update={"price": p.model_copy(update={
                    "low": p.low * factor, "base": p.base * factor, "high": p.high * factor})})
    return dataclasses.replace(catalog, accelerators=accs, nodes=nodes)


def _apply(catalog: Catalog, engine: ComplianceEngine, request: PurchaseRequest, change: WhatIfChange
           ) -> tuple[Catalog, ComplianceEngine, PurchaseRequest]:
    removed = {catalog.resolve(s) for s in change.remove_skus}
    factors = {catalog.resolve(s): 1 + c for s, c in change.price_changes.items()}
    cat = scale_prices(catalog, factors) if factors else catalog
    eng = engine
    if change.rule_dates:
        eng = engine.with_rule_dates(change.rule_dates)
    if cat is not catalog:
        eng = _rebind(eng, cat)
    updates: dict[str, object] = {}
    if removed:
        # without named parts the pool is what the base plan considers by default: datacenter parts only, so that
        # removing one part never names (and so admits) the consumer cards the buyer's plan left out
        pool = [catalog.resolve(s) for s in request.skus] if request.skus else [
            s for s, acc in catalog.accelerators.items() if acc.datacenter]
        keep = [s for s in pool if s not in removed]
        if not keep:
            raise InvalidInputError("removing these SKUs leaves no accelerator to choose from")
        updates["skus"] = keep
    if change.date is not None:
        updates["buyer"] = request.buyer.model_copy(update={"date": change.date})
    if change.min_domestic_share is not None:
        updates["policy"] = request.policy.model_copy(update={"min_domestic_share": change.min_domestic_share})
    if change.budget is not None:
        base_budget = request.budget
        cur = base_budget.currency if base_budget else request.report_currency
        updates["budget"] = {"amount": change.budget, "currency": cur}
    if change.deadline_days is not None:
        updates["workloads"] = [w.model_copy(update={"deadline_days": change.deadline_days})
                                if isinstance(w, TrainingWorkload) else w for w in request.workloads]
    req = PurchaseRequest.model_validate({**request.model_dump(), **{
        k: (v.model_dump() if isinstance(v, BaseModel) else
            [x.model_dump() if isinstance(x, BaseModel) else x for x in v] if isinstance(v, list) else v)
        for k, v in updates.items()}})
    return cat, eng, req


def apply_change(catalog: Catalog, engine: ComplianceEngine, request: PurchaseRequest, change: WhatIfChange
                 ) -> tuple[Catalog, ComplianceEngine, PurchaseRequest]:
    """The catalog, engine and request after ``change``: what :func:`what_if` solves as the changed plan.

    Raises:
        UnknownSkuError, InvalidInputError: a change names something unknown or leaves nothing to choose.
    """
    return _apply(catalog, engine, request, change)


def _rebind(engine: ComplianceEngine, catalog: Catalog) -> ComplianceEngine:
    clone = object.__new__(type(engine))
    clone.__dict__.update(engine.__dict__)
    clone.catalog = catalog
    return clone


def _skus(plan: PurchasePlan) -> set[str]:
    return {i.sku for i in plan.items}


def what_if(catalog: Catalog, engine: ComplianceEngine, request: PurchaseRequest, change: WhatIfChange, *,
            cache: EstimateCache | None = None, time_limit_s: float = 5.0, num_workers: int = 1) -> WhatIfResult:
    """Solve the base request and the changed one; report the difference and the changed plan's break-even prices.

    Raises:
        UnknownSkuError, InvalidInputError: a change names something unknown or leaves nothing to choose.
    """
    cache = cache or EstimateCache()  # performance data does not depend on prices, so one cache serves both
    base = recommend(catalog, engine, request, cache=cache, time_limit_s=time_limit_s, num_workers=num_workers)
    cat, eng, req = _apply(catalog, engine, request, change)
    changed = recommend(cat, eng, req, cache=cache, time_limit_s=time_limit_s, num_workers=num_workers)
    added = sorted(_skus(changed) - _skus(base))
    removed = sorted(_skus(base) - _skus(changed))
    d_cost = None
    if changed.total_cost is not None and base.total_cost is not None:
        d_cost = changed.total_cost - base.total_cost
    d_days = None
    if changed.time_days is not None and base.time_days is not None:
        d_days = changed.time_days - base.time_days
    if not changed.items:
        summary = f"after the change the request is {changed.status}: {changed.message}"
    elif not added and not removed:
        summary = "the same accelerators are chosen"
    else:
        summary = f"switches {', '.join(removed) or 'nothing'} → {', '.join(added) or 'nothing'}"
    if d_cost is not None:
        summary += f"; cost {d_cost:+,.0f} {base.currency}"
    if d_days is not None:
        summary += f"; time {d_days:+.1f} days"
    return WhatIfResult(changes=change.describe(), base=base, changed=changed, delta_cost=d_cost, delta_days=d_days,
                        skus_added=added, skus_removed=removed, summary=summary,
                        break_even=break_even(cat, eng, req, changed, cache=cache, time_limit_s=time_limit_s,
                                              num_workers=num_workers))


def break_even(catalog: Catalog, engine: ComplianceEngine, request: PurchaseRequest, base: PurchasePlan, *,
               cache: EstimateCache | None = None, time_limit_s: float = 5.0, num_workers: int = 1
               ) -> list[BreakEven]:
    """Price of the runner-up at which it would be chosen, and price rise at which the winner would lose.

    Uses the first distinct alternative of the base plan as the runner-up and bisects a price factor.
    """
    if not base.items or not base.alternatives:
        return []
    winner = sorted(_skus(base))
    runner_skus = sorted({i.sku for i in base.alternatives[0].items} - set(winner))
    if not runner_skus:
        return []
    runner = runner_skus[0]
    out = []
    cur = base.currency

    def chosen_with(sku: str, factor: float) -> set[str]:
        scaled = scale_prices(catalog, {sku: factor})
        plan = recommend(scaled, _rebind(engine, scaled), request.model_copy(update={"alternatives": 0,
                                                                                   "break_even_prices": False}),
                         cache=cache, time_limit_s=time_limit_s, num_workers=num_workers)
        return _skus(plan)

    # Runner-up cheaper: the largest price factor ≤ 1 at which it enters the plan.
    def inside(f: float) -> bool:
        return runner in chosen_with(runner, f)

    if inside(0.02):
        lo, _ = _bisect_geometric(inside, 0.02, 1.0)
        out.append(_be(catalog, runner, lo, "runner-up", cur,
                       f"{runner} would be chosen if its price fell by {1 - lo:.0%} or more"))
    else:
        out.append(BreakEven(sku=runner, role="runner-up", current_price=None, break_even_price=None, change=None,
                             currency=cur, basis="", message=f"{runner} is not chosen even at 2% of its price"))
    # Winner dearer: the smallest price factor ≥ 1 at which it leaves the plan.
    w = winner[0]

    def kept(f: float) -> bool:
        return w in chosen_with(w, f)

    if not kept(20.0):
        _, hi = _bisect_geometric(kept, 1.0, 20.0)
        out.append(_be(catalog, w, hi, "chosen", cur, f"{w} would lose if its price rose by {hi - 1:.0%} or more"))
    return out


def _bisect_geometric(holds: Callable[[float], bool], lo: float, hi: float, steps: int = 8) -> tuple[float, float]:
    """Narrow [lo, hi] where ``holds(lo)`` is true and ``holds(hi)`` false, splitting geometrically."""
    for _ in range(steps):
        mid = math.sqrt(lo * hi)
        if holds(mid):
            lo = mid
        else:
            hi = mid
    return lo, hi


def _be(catalog: Catalog, sku: str, factor: float, role: str, cur: str, msg: str) -> BreakEven:
    acc = catalog.accelerators[sku]
    nodes = [n for n in catalog.nodes_for(sku) if n.price is not None]
    if nodes:
        p = nodes[0].price
        assert p is not None
        basis, price, pcur = f"node price ({nodes[0].id})", p.base, p.currency
    elif acc.price is not None:
        basis, price, pcur = "accelerator price", acc.price.base, acc.price.currency
    else:
        return BreakEven(sku=sku, role=role, current_price=None, break_even_price=None, change=factor - 1,
                         currency=cur, basis="", message=msg)
    return BreakEven(sku=sku, role=role, current_price=price, break_even_price=price * factor, change=factor - 1,
                     currency=pcur, basis=basis, message=f"{msg} ({basis} {price:,.0f} → {price * factor:,.0f} {pcur})")
