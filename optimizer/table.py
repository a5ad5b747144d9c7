"""Estimate first: turn a purchase request into a table of options (workload × SKU × size) and exclusions.

The CP-SAT model reads only this table. Costs are linear in nodes (node price, network for multi-node pools,
storage, fees, risk premium, power and hosting over the horizon), so one cost estimate per SKU prices every size
exactly. Training options: the smallest pool that fits, the fewest nodes that meet the deadline and the fastest
size within the limits, both searched on a canonical size grid that does not depend on the limits (so a larger
budget never gives a slower plan and a longer deadline never a dearer one), and a ladder of sizes when workloads
share limits; inference options are per node of each SKU. Parts not purchasable on the evaluation date, and
prohibited parts, get no options.
"""

from __future__ import annotations

import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Literal

from optimizer.cancel import check_cancelled
from optimizer.catalog import Accelerator, Catalog
from optimizer.compliance import OUTLOOK_TEXT, ComplianceEngine, ComplianceResult, PolicyDecision
from optimizer.errors import InvalidInputError, OptimizerError, UnpricedError, UnsupportedPrecisionError
from optimizer.estimator import (
    CostRequest,
    InferenceEstimate,
    InferenceRequest,
    TrainingEstimate,
    TrainingRequest,
    estimate_cost,
    estimate_inference,
    estimate_training,
)
from optimizer.estimator.common import choose_fabric, node_size, peaks_for
from optimizer.estimator.cost import price_grade
from optimizer.estimator.inference import ServingAssumed
from optimizer.estimator.plan_search import PlanMemo
from optimizer.reasons import Why
from optimizer.request import FAVOURABLE_OUTLOOKS, InferenceWorkload, PurchaseRequest, TrainingWorkload
from optimizer.switching import Switching, resolve_switching
from optimizer.units import MONEY_UNIT, POWER_UNIT_KW, meets_deadline

ExclusionCategory = Literal["compliance", "availability", "policy", "price", "data", "fit", "fabric", "supply",
                            "latency"]
_MAX_ACCELERATORS = 1_000_000
"""Largest pool considered (accelerators); beyond it the estimator's scaling data says nothing."""
_LADDER = tuple(2**k for k in range(0, 21))
"""Node counts tried between the smallest fitting size and twice the largest size the limits allow."""
_MANTISSA_STEPS = 8
"""Sizes per octave on the canonical size grid (1, 1.125, 1.25, … 1.875 × 2^k nodes)."""


_DEADLINE_STEPS = 16
"""Sizes per octave searched for the fewest nodes that meet a deadline (at most about 6 % apart)."""


def size_grid(lo: int, hi: int, steps: int = _MANTISSA_STEPS) -> list[int]:
    """Canonical node counts in [lo, hi]: 1, 2, 3, …, 16, then 8 per octave (at most 12.5 % apart).

    The grid does not depend on the budget or any other limit, so a larger limit only adds sizes: the fastest
    plan within a budget can never get slower when the budget grows.
    """
    out: list[int] = []
    octave = 1
    while octave <= hi:
        step = max(1, octave // steps)
        for n in range(octave, 2 * octave, step):
            if lo <= n <= hi:
                out.append(n)
        octave *= 2
    return out


@dataclass(frozen=True)
class Option:
    """One way to serve one workload: a pool of ``nodes`` (training) or one node of capacity (inference)."""

    id: str
    workload: str
    kind: Literal["training", "inference"]
    sku: str
    vendor: str
    domestic: bool
    nodes: int
    accelerators: int
    max_units: int
    cost: float
    cost_low: float
    cost_high: float
    capex: float
    opex: float
    hardware: float
    power_kw: float
    days: float | None = None
    tokens_per_s: float | None = None
    capacity_rps: float | None = None
    fabric: str | None = None
    mfu: float | None = None
    plan: str = ""
    blocked: str | None = None
    """Why the buyer policy blocks this option (None = admissible); used by relaxations."""
    network: float = 0.0
    """Scale-out network capex (included in cost and capex; multi-node training pools only)."""
    hosting: float = 0.0
    """Hosting/maintenance over the horizon (included in cost and opex)."""
    serving: ServingAssumed | None = None
    """Inference options: the engine, precisions, layout and latencies the capacity assumes."""
    ramp_days_added: float = 0.0
    """Training days the switching ramp adds to the estimator's steady-state time (``days`` includes them)."""


@dataclass(frozen=True)
class Exclusion:
    """An accelerator (or a workload on it) that cannot be part of any plan, and why."""

    sku: str
    reason: str
    category: ExclusionCategory
    workload: str | None = None
    why: Why | None = None


@dataclass
class SkuInfo:
    """Per-SKU facts the plan reports: compliance verdict, policy decision, unit costs."""

    sku: str
    name: str
    vendor: str
    domestic: bool
    compliance: ComplianceResult
    decision: PolicyDecision
    node_size: int
    fabric: str | None
    fabric_note: str | None
    node_cost: float | None = None
    node_cost_low: float | None = None
    node_cost_high: float | None = None
    node_capex: float | None = None
    node_opex: float | None = None
    node_hardware: float | None = None
    node_power_kw: float | None = None
    node_network: tuple[float, float, float] = (0.0, 0.0, 0.0)
    """Scale-out network per node (low, base, high), added only to multi-node training pools."""
    node_hosting: float = 0.0
    price_basis: str | None = None
    price_grade: str | None = None
    license_block: str | None = None
    """Why a licence-required part is held back by default (outlook not favourable; None = not held back)."""
    license_block_why: Why | None = None

    @property
    def blocked(self) -> str | None:
        """Why the buyer policy blocks this part (None = admissible)."""
        return self.decision.reason if not self.decision.admissible else self.license_block

    @property
    def blocked_why(self) -> Why | None:
        """``blocked`` as a machine-readable reason (None when admissible or not coded)."""
        return self.decision.why if not self.decision.admissible else self.license_block_why


@dataclass
class OptionTable:
    """Everything the model needs, in request currency."""

    request: PurchaseRequest
    currency: str
    options: list[Option]
    exclusions: list[Exclusion]
    skus: dict[str, SkuInfo]
    supply: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    switching: Switching | None = None
    """The buyer's stack and the porting/ramp terms of every other family (None: no current stack given)."""

    def for_workload(self, name: str) -> list[Option]:
        """Options of one workload."""
        return [o for o in self.options if o.workload == name]

    def admissible(self) -> list[Option]:
        """Options not blocked by the buyer policy."""
        return [o for o in self.options if o.blocked is None]


class EstimateCache:
    """Memoises estimator calls (frozen requests are hashable); share one per catalog.

    Bounded: at most ``max_entries`` estimates are kept, the least recently used one is dropped first.
    """

    def __init__(self, max_entries: int = 5_000) -> None:
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.max_entries = max_entries
        self._training: OrderedDict[TrainingRequest, TrainingEstimate] = OrderedDict()
        self._inference: OrderedDict[InferenceRequest, InferenceEstimate] = OrderedDict()
        self.plans = PlanMemo(4 * max_entries)  # plan searches shared across token counts and deadlines
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.evictions = 0

    def __len__(self) -> int:
        return len(self._training) + len(self._inference)

    def __bool__(self) -> bool:
        return True  # an empty cache is still a cache (callers write `cache or EstimateCache()`)

    def training(self, catalog: Catalog, req: TrainingRequest) -> TrainingEstimate:
        """Cached :func:`estimate_training` at point values (no low/high range: the optimizer never reads it)."""
        check_cancelled()
        with self._lock:
            hit = self._training.get(req)
            if hit is not None:
                self._training.move_to_end(req)
                self.hits += 1
                return hit
            self.misses += 1
        est = estimate_training(catalog, req, ranged=False, plans=self.plans)
        with self._lock:
            self._training[req] = est
            self._training.move_to_end(req)
            while len(self._training) > self.max_entries:
                self._training.popitem(last=False)
                self.evictions += 1
        return est

    def inference(self, catalog: Catalog, req: InferenceRequest) -> InferenceEstimate:
        """Cached :func:`estimate_inference` (what-ifs and repeated requests re-use serving estimates)."""
        check_cancelled()
        with self._lock:
            hit = self._inference.get(req)
            if hit is not None:
                self._inference.move_to_end(req)
                self.hits += 1
                return hit
            self.misses += 1
        est = estimate_inference(catalog, req)
        with self._lock:
            self._inference[req] = est
            self._inference.move_to_end(req)
            while len(self._inference) > self.max_entries:
                self._inference.popitem(last=False)
                self.evictions += 1
        return est


def _nodes_round(accelerators: float, per_node: int) -> int:
    return max(1, math.ceil(accelerators / per_node))


def _training_request(w: TrainingWorkload, sku: str, count: int, fabric: str | None, country: str) -> TrainingRequest:
    return TrainingRequest(params=None if w.model else w.params, model=w.model,
                           active_params=None if w.model else w.active_params, tokens=w.tokens, accelerator=sku,
                           count=count, precision=w.precision, seq_len=w.seq_len, fabric=fabric,
                           buyer_country=country)


def _sku_info(catalog: Catalog, engine: ComplianceEngine, req: PurchaseRequest, acc: Accelerator
              ) -> tuple[SkuInfo, list[Exclusion]]:
    buyer = req.buyer.as_buyer()
    result = engine.check(acc.id, buyer)
    decision = engine.decide(result, req.policy)
    exclusions: list[Exclusion] = []
    fabric_id, fabric_note = _fabric_for(catalog, acc, req)
    info = SkuInfo(sku=acc.id, name=acc.name, vendor=acc.vendor, domestic=acc.domestic_china, compliance=result,
                   decision=decision, node_size=node_size(catalog, acc), fabric=fabric_id, fabric_note=fabric_note)
    if result.verdict == "prohibited":
        hit = next((f for f in result.rules if f.effect == "prohibited"), None)
        first = hit.text if hit else "prohibited"
        why = Why(code="prohibited", args={"country": req.buyer.country, "date": req.buyer.date.isoformat(),
                                           "classification": result.classification,
                                           "outlook": result.license_outlook or ""})
        exclusions.append(Exclusion(acc.id, f"prohibited for {req.buyer.country} on {req.buyer.date}: {first}",
                                    "compliance", why=why))
        return info, exclusions
    unavailable = acc.unavailable(req.buyer.date, req.buyer.country)
    if unavailable:
        exclusions.append(Exclusion(acc.id, unavailable[0], "availability", why=unavailable[1]))
        return info, exclusions
    outlook = result.license_outlook
    if (result.verdict == "license_required" and decision.admissible and not req.accept_license_risk
            and outlook not in FAVOURABLE_OUTLOOKS):
        info.license_block = (f"licence required, {OUTLOOK_TEXT.get(outlook or '', 'outlook unknown')}; "
                              "held back unless the buyer accepts licence risk (--accept-license-risk)")
        info.license_block_why = Why(code="licence_held_back", args={"outlook": outlook or ""})
    try:
        est = estimate_cost(catalog, CostRequest(
            accelerator=acc.id, accelerators=info.node_size, currency=req.report_currency,
            horizon_years=req.horizon_years, fabric=fabric_id, fee_fraction=result.fee_fraction,
            risk_premium=decision.premium if decision.admissible else _blocked_premium(result, req),
        ))
    except InvalidInputError as exc:
        exclusions.append(Exclusion(acc.id, exc.message, "price", why=Why(code="no_price", args={"sku": acc.id})
                                    if isinstance(exc, UnpricedError) else None))
        return info, exclusions
    net = est.network  # priced separately: a single node needs no scale-out fabric
    info.node_network = (net.low, net.base, net.high)
    info.node_cost, info.node_cost_low, info.node_cost_high = (est.total.base - net.base, est.total.low - net.low,
                                                               est.total.high - net.high)
    info.node_capex, info.node_opex = est.capex.base - net.base, est.opex.base
    info.node_hosting = est.hosting.base
    info.node_hardware = est.hardware.base
    info.node_power_kw = est.facility_kw
    info.price_basis = est.node_price_basis
    info.price_grade = price_grade(catalog, acc.id)
    if req.exclude_weak_prices and info.price_grade == "W":
        exclusions.append(Exclusion(acc.id, f"priced only by weak (grade W) reports ({est.node_price_basis}); "
                                    "the buyer policy excludes weakly priced parts", "price"))
    return info, exclusions


def _blocked_premium(result: ComplianceResult, req: PurchaseRequest) -> float:
    """Risk premium an option would carry if the policy were relaxed to allow it."""
    if result.verdict == "license_required" and result.license_outlook:
        return req.policy.risk_premium.get(result.license_outlook, 0.0)
    return 0.0


def _fabric_for(catalog: Catalog, acc: Accelerator, req: PurchaseRequest) -> tuple[str | None, str | None]:
    """Fastest scale-out fabric the buyer may use for this vendor (None when none is usable)."""
    allowed = None if req.allowed_fabrics is None else {f.strip().lower() for f in req.allowed_fabrics}
    best = None
    note = None
    for net in catalog.networks_for(acc.vendor):
        if allowed is not None and net.id not in allowed:
            continue
        avail = net.availability_for(req.buyer.country)
        if avail == "unavailable":
            note = f"{net.name} unavailable to buyers in {req.buyer.country}"
            continue
        fab = choose_fabric(catalog, acc, fabric=net.id, buyer_country=req.buyer.country)
        if fab is None:
            continue
        rank = ({"available": 3, "unknown": 2, "limited": 1}[avail], fab.gbit_per_accelerator)
        if best is None or rank > best[0]:
            best = (rank, net.id, avail)
    if best is None:
        return None, note or "no scale-out fabric allowed for this vendor"
    if best[2] == "limited":
        note = f"{catalog.networks[best[1]].name}: availability to {req.buyer.country} is limited"
    return best[1], note


def build_table(catalog: Catalog, engine: ComplianceEngine, req: PurchaseRequest,
                cache: EstimateCache | None = None) -> OptionTable:
    """Build the option table for a request.

    Raises:
        UnknownSkuError: a SKU named in ``req.skus`` or ``req.limits.supply`` does not exist.
        InvalidInputError: an allowed fabric does not exist, or the buyer is in an embargoed destination.
    """
    cache = cache if cache is not None else EstimateCache()
    engine.validate_country(req.buyer.country)
    if req.buyer.headquarters_country:
        engine.validate_country(req.buyer.headquarters_country)
    embargo = engine.embargo_reason(req.buyer.country, req.buyer.date)
    if embargo:
        raise InvalidInputError(embargo)
    for f in req.allowed_fabrics or []:
        if f.strip().lower() not in catalog.networks:
            raise InvalidInputError(f"unknown fabric {f!r}; choose from {', '.join(sorted(catalog.networks))}")
    supply = {catalog.resolve(k): v for k, v in req.limits.supply.items()}
    skus = [catalog.resolve(s) for s in req.skus] if req.skus else list(catalog.accelerators)
    table = OptionTable(request=req, currency=req.report_currency, options=[], exclusions=[], skus={},
                        supply=supply, switching=resolve_switching(catalog, dict.fromkeys(skus), req,
                                                                   req.report_currency))
    for sku in dict.fromkeys(skus):
        acc = catalog.accelerators[sku]
        info, excl = _sku_info(catalog, engine, req, acc)
        table.skus[sku] = info
        table.exclusions.extend(excl)
        if excl:
            continue
        if not acc.datacenter and not req.skus:
            table.exclusions.append(Exclusion(
                sku, f"{acc.name} is a consumer card (not designed or marketed for datacenters); it is considered "
                "only when named in `skus`", "policy", why=Why(code="consumer_card", args={"name": acc.name})))
            continue
        if supply.get(sku) == 0:
            table.exclusions.append(Exclusion(sku, f"supply limit for {sku} is 0", "supply",
                                              why=Why(code="supply_zero", args={"sku": sku})))
            continue
        blocked = info.blocked
        for w in req.workloads:
            try:
                if isinstance(w, TrainingWorkload):
                    table.options.extend(_training_options(catalog, req, w, acc, info, blocked, supply.get(sku),
                                                           cache, table))
                else:
                    table.options.extend(_inference_options(catalog, req, w, acc, info, blocked, table, cache))
            except (UnsupportedPrecisionError, InvalidInputError) as exc:
                table.exclusions.append(Exclusion(sku, exc.message, "data", workload=w.name))
    return table


def _unit_costs(info: SkuInfo, nodes: int, *, network: bool = False) -> dict[str, float]:
    assert info.node_cost is not None and info.node_cost_low is not None and info.node_cost_high is not None
    assert info.node_capex is not None and info.node_opex is not None and info.node_hardware is not None
    assert info.node_power_kw is not None
    net_low, net, net_high = info.node_network if network else (0.0, 0.0, 0.0)
    return {"cost": (info.node_cost + net) * nodes, "cost_low": (info.node_cost_low + net_low) * nodes,
            "cost_high": (info.node_cost_high + net_high) * nodes, "capex": (info.node_capex + net) * nodes,
            "opex": info.node_opex * nodes, "hardware": info.node_hardware * nodes,
            "power_kw": info.node_power_kw * nodes, "network": net * nodes, "hosting": info.node_hosting * nodes}


def _nodes_within(limit: float, per_node: float, unit: float) -> int:
    """Most nodes whose total fits ``limit`` as the CP-SAT model counts it (totals rounded up, limits down).

    Sizing with exact division could offer a pool a few hundred yuan under the budget that the model's conservative
    rounding then refuses, leaving no affordable size of that part: a larger budget gave a slower plan.
    """
    cap = math.floor(limit / unit + 1e-9)
    n = int(limit // per_node)
    while n > 0 and math.ceil(n * per_node / unit - 1e-9) > cap:
        n -= 1
    return n


def _max_nodes(req: PurchaseRequest, info: SkuInfo, supply: int | None) -> int:
    limit = _MAX_ACCELERATORS // info.node_size
    if req.budget is not None and info.node_cost:
        per_node = info.node_cost + info.node_network[1]  # a multi-node pool also buys its network
        limit = min(limit, max(1, _nodes_within(req.budget.amount, per_node, MONEY_UNIT)))
    if req.limits.power_kw is not None and info.node_power_kw:
        limit = min(limit, max(1, _nodes_within(req.limits.power_kw, info.node_power_kw, POWER_UNIT_KW)))
    if req.limits.racks is not None:
        limit = min(limit, req.limits.racks * req.limits.nodes_per_rack)
    if supply is not None:
        limit = min(limit, max(1, supply // info.node_size))
    return max(1, limit)


def _training_options(catalog: Catalog, req: PurchaseRequest, w: TrainingWorkload, acc: Accelerator,
                      info: SkuInfo, blocked: str | None, supply: int | None, cache: EstimateCache,
                      table: OptionTable) -> list[Option]:
    per_node = info.node_size
    fabric = info.fabric

    sw = table.switching

    def est(nodes: int) -> TrainingEstimate:
        e = cache.training(catalog, _training_request(w, acc.id, nodes * per_node, fabric, req.buyer.country))
        if sw is None or not sw.foreign(acc.id) or e.wall_clock_days is None:
            return e
        # On another stack every size is judged on its ramped time (monotone in the steady time, so the size
        # searches below stay exact).
        return e.model_copy(update={"wall_clock_days": sw.ramp(acc.id, e.wall_clock_days)})

    # Smallest size that fits (start from the memory lower bound of fully sharded state).
    capacity = acc.memory_gb.value or 1.0
    lb_acc = w.params * 16 / (capacity * 0.9 * 1e9)
    n = _nodes_round(lb_acc, per_node)
    first = est(n)
    if first.status != "ok":
        if first.minimum_count is None:
            table.exclusions.append(Exclusion(acc.id, first.message, "fit", workload=w.name))
            return []
        n = _nodes_round(first.minimum_count, per_node)
        first = est(n)
        if first.status != "ok":
            table.exclusions.append(Exclusion(acc.id, first.message, "fit", workload=w.name))
            return []
    if fabric is None and n > 1:
        table.exclusions.append(Exclusion(acc.id, f"needs {n} nodes but {info.fabric_note}", "fabric",
                                          workload=w.name))
        return []
    n_min = n
    n_max = max(n_min, _max_nodes(req, info, supply))
    if fabric is None:
        n_max = 1
    cap_nodes = _MAX_ACCELERATORS // per_node
    bounded = (req.budget is not None or req.limits.power_kw is not None or req.limits.racks is not None
               or supply is not None or n_max < cap_nodes)  # some limit caps the size
    n_dl = None
    run_limit = req.run_deadline(w)
    steady_floor = _days_floor(w, acc, per_node)

    def floor(nodes: int) -> float:
        return steady_floor(nodes) if sw is None else sw.ramp(acc.id, steady_floor(nodes))

    if run_limit is not None and fabric is not None:
        # Search up to the largest size the limits allow (a larger pool could not be bought; relaxations re-run the
        # search with the limit raised), so the range does not depend on the deadline.
        n_dl = _nodes_for_deadline(est, n_min, run_limit, n_max if bounded else cap_nodes, floor)
    counts = {n_min}
    if bounded and req.resolved_objective != "min_time":
        counts.add(n_max)
    if n_dl is not None:
        counts.add(n_dl)
    if fabric is not None:
        # Workloads compete for shared limits (or a frontier is wanted): offer a ladder of sizes (powers of two,
        # budget-independent so repeated and what-if requests reuse cached estimates) up to twice the largest
        # relevant size. A single workload only needs its decisive sizes: the fewest nodes that meet the deadline
        # (larger pools cost more for the same job), the fastest canonical size within the limits (min_time),
        # and one beyond the limits so binding limits can see past them.
        coupled = (len(req.workloads) > 1 or req.pareto or req.allow_mixed_pools
                   or req.policy.min_domestic_share > 0 or req.policy.max_vendor_share < 1)
        reference = n_max if bounded else max(n_dl or n_min, n_min)
        if coupled and blocked is None:
            top = min(cap_nodes, 2 * reference)
            counts |= {k for k in _LADDER if n_min < k <= top}
        elif bounded and (req.resolved_objective == "min_time" or n_dl is None or n_dl > n_max):
            counts.add(min(cap_nodes, math.ceil(n_max * 1.25)))
        if req.resolved_objective == "min_time" and blocked is None:
            # The fastest plan within the limits: the fastest canonical size up to the largest affordable one, and
            # only canonical sizes, so a larger budget never loses one (pool times are not monotone in the node
            # count: a pool one node larger can be slower when its parallel layout factors worse).
            counts.add(_fastest_on_grid(est, n_min, n_max, floor))
        elif req.resolved_objective == "min_time" and bounded:
            counts.add(n_max)
    options: list[Option] = []
    for nodes in sorted(counts):
        e = est(nodes)
        if e.status != "ok" or e.wall_clock_days is None or e.tokens_per_s is None:
            continue
        costs = _unit_costs(info, nodes, network=fabric is not None and nodes > 1)
        plan = e.plan
        steady = cache.training(catalog, _training_request(w, acc.id, nodes * per_node, fabric,
                                                           req.buyer.country)).wall_clock_days or e.wall_clock_days
        # Mixed pools add throughputs: a ramped pool delivers the job's tokens over its ramped time.
        tokens = e.tokens_per_s * e.goodput * steady / e.wall_clock_days
        options.append(Option(
            id=f"{w.name}:{acc.id}:{nodes}n", workload=w.name, kind="training", sku=acc.id, vendor=acc.vendor,
            domestic=acc.domestic_china, nodes=nodes, accelerators=nodes * per_node, max_units=1,
            days=e.wall_clock_days, tokens_per_s=tokens, fabric=fabric if nodes > 1 else None,
            mfu=e.mfu, blocked=blocked, ramp_days_added=e.wall_clock_days - steady,
            plan=(f"TP{plan.tp}×PP{plan.pp}×DP{plan.dp}, ZeRO-{plan.zero_stage}, MFU {e.mfu or 0:.0%}"
                  if plan else ""),
            **costs,  # type: ignore[arg-type]
        ))
    return options


def _days_floor(w: TrainingWorkload, acc: Accelerator, per_node: int) -> Callable[[int], float]:
    """A lower bound on a pool's training days: model FLOPs (6·N_active·D) at the full dense peak, no overhead.

    Any estimate is at least this (MFU ≤ 1, goodput ≤ 1, attention adds FLOPs), so sizes whose bound already misses
    a deadline, or exceeds the best time found, need no estimate.
    """
    try:
        peak = peaks_for(acc, w.precision).compute
    except OptimizerError:
        return lambda nodes: 0.0
    flops = 6.0 * (w.active_params or w.params) * w.tokens
    return lambda nodes: flops / (nodes * per_node * peak * 1e12 * 86_400.0)


def _fastest_on_grid(est: Callable[[int], TrainingEstimate], n_min: int, n_max: int,
                     floor: Callable[[int], float]) -> int:
    """The fastest size among ``n_min`` and the canonical sizes up to ``n_max`` (ties: the smaller).

    Exact: sizes are tried from the largest down and the walk stops where the physical lower bound of a size is
    no better than the best time found, since the bound only grows as sizes shrink.
    """
    best, best_days = n_min, math.inf
    for n in reversed([n_min, *size_grid(n_min + 1, n_max)]):
        if floor(n) > best_days:
            break
        e = est(n)
        days = e.wall_clock_days if e.status == "ok" and e.wall_clock_days is not None else math.inf
        if days <= best_days:
            best, best_days = n, days
    return best


def _nodes_for_deadline(est: Callable[[int], TrainingEstimate], n_min: int, deadline: float,
                        n_cap: int, floor: Callable[[int], float]) -> int | None:
    """The fewest nodes that meet the deadline, found so that a longer deadline never needs more nodes.

    Pool times are not monotone in the node count (a layout that factors badly can make a larger pool slower), so
    the search runs on a fine canonical size grid (every count up to 16 nodes, then 16 per octave) in fixed
    octaves above ``n_min``: the first octave whose top size meets the deadline is bisected. The octaves do not
    depend on the deadline, a longer deadline can only stop at the same octave or an earlier one, and a bisection
    whose probes can only flip from "misses" to "meets" never returns more nodes for a longer deadline (see
    :func:`bisect_first`). Sizes whose physical lower bound already misses are not estimated. None if ``n_cap``
    misses.
    """

    def meets(n: int) -> bool:
        if floor(n) > deadline:
            return False
        e = est(n)
        return e.status == "ok" and e.wall_clock_days is not None and meets_deadline(e.wall_clock_days, deadline)

    grid = [n_min, *size_grid(n_min + 1, n_cap, _DEADLINE_STEPS)]
    if meets(grid[0]):
        return grid[0]
    lo, top = 0, 2 * n_min
    while lo < len(grid) - 1:  # octave by octave: the first octave whose top meets is bisected
        end = max(i for i, n in enumerate(grid) if n <= top) if top < grid[-1] else len(grid) - 1
        if end > lo and meets(grid[end]):
            return grid[bisect_first(lambda i: meets(grid[i]), lo, end, tight=False)]
        lo, top = max(lo, end), 2 * top
    return None


def bisect_first(ok: Callable[[int], bool], bad: int, good: int, *, tight: bool = True) -> int:
    """Smallest integer in (bad, good] for which ``ok`` holds, given ok(good) and not ok(bad), ok monotone.

    When ``good`` is a tight guess (``tight``), ``good - 1`` is tried first: if it fails, one probe certifies it.
    For a family of predicates that only flip from false to true as a parameter grows (a longer deadline, a larger
    budget), the answer never rises with the parameter: the probes are the same until the first one that differs,
    and from there the looser predicate continues below it while the tighter one continues above.
    """
    if tight and good - bad > 1:
        if not ok(good - 1):
            return good
        good -= 1
    while good - bad > 1:
        mid = (bad + good) // 2
        if ok(mid):
            good = mid
        else:
            bad = mid
    return good


def _inference_request(w: InferenceWorkload, sku: str) -> InferenceRequest:
    """The estimator request of a serving workload on one part (every serving knob of the workload passed)."""
    fields = {"model": w.model, "params": w.params, "active_params": None if w.model else w.active_params,
              "accelerator": sku, "precision": w.precision, "kv_precision": w.kv_precision, "engine": w.engine,
              "tp": w.tp, "pp": w.pp, "ep": w.ep, "prompt_tokens": w.prompt_tokens, "output_tokens": w.output_tokens,
              "prompt_tokens_std": w.prompt_tokens_std, "output_tokens_std": w.output_tokens_std,
              "prefix_cache_hit": w.prefix_cache_hit, "requests_per_s": w.requests_per_s, "ttft_s": w.ttft_s,
              "tpot_s": w.tpot_s, "latency_basis": w.latency_basis, "max_batch": w.max_batch}
    return InferenceRequest.model_validate({k: v for k, v in fields.items() if v is not None})


def _inference_options(catalog: Catalog, req: PurchaseRequest, w: InferenceWorkload, acc: Accelerator,
                       info: SkuInfo, blocked: str | None, table: OptionTable, cache: EstimateCache) -> list[Option]:
    e = cache.inference(catalog, _inference_request(w, acc.id))
    if e.status != "ok" or e.tp is None or e.requests_per_s_per_replica is None:
        category: ExclusionCategory = "fit" if e.status == "does_not_fit" else "latency"
        table.exclusions.append(Exclusion(acc.id, e.message, category, workload=w.name))
        return []
    devices = e.tp * (e.pp or 1)
    unit_nodes = max(1, math.ceil(devices / info.node_size))  # a replica wider than a node buys whole nodes
    if unit_nodes > 1 and info.fabric is None:
        table.exclusions.append(Exclusion(acc.id, f"a replica needs {devices} accelerators ({unit_nodes} nodes) but "
                                          f"{info.fabric_note}", "fabric", workload=w.name))
        return []
    replicas_per_unit = max(1, unit_nodes * info.node_size // devices)
    # The estimate's per-replica rate already meets the latency limits and the utilisation ceiling.
    cap = e.requests_per_s_per_replica * replicas_per_unit
    units = math.ceil(w.requests_per_s / cap)
    costs = _unit_costs(info, unit_nodes, network=unit_nodes > 1)
    serving = ServingAssumed(
        engine=e.engine, precision=e.precision, kv_precision=e.kv_precision, tp=e.tp, pp=e.pp or 1, ep=e.ep or 1,
        batch=e.batch or 0, replicas_per_unit=replicas_per_unit, latency_basis=e.latency_basis, ttft_s=e.ttft_s,
        tpot_s=e.tpot_s, output_tokens_per_s_per_accelerator=e.output_tokens_per_s_per_accelerator or 0.0)
    layout = f"TP{e.tp}" + (f"×PP{e.pp}" if (e.pp or 1) > 1 else "") + (" DEP" if e.moe_mode == "dep" else "")
    ttft = "—" if e.ttft_s is None else f"{e.ttft_s:.2f}s"
    return [Option(
        id=f"{w.name}:{acc.id}:node", workload=w.name, kind="inference", sku=acc.id, vendor=acc.vendor,
        domestic=acc.domestic_china, nodes=unit_nodes, accelerators=unit_nodes * info.node_size, max_units=units,
        capacity_rps=cap, blocked=blocked, serving=serving,
        fabric=info.fabric if unit_nodes > 1 else None,
        plan=f"{layout}, {e.engine} {e.precision}/{e.kv_precision} KV, {replicas_per_unit} replica(s)/"
             + ("node" if unit_nodes == 1 else f"{unit_nodes} nodes")
             + f", batch {e.batch}, TTFT {e.latency_basis} {ttft}, "
               f"TPOT {e.latency_basis} {(e.tpot_s or 0) * 1000:.0f} ms",
        **costs,  # type: ignore[arg-type]
    )]


def with_policy_blocks_lifted(table: OptionTable, *, reasons: Iterable[str] | None = None) -> OptionTable:
    """A copy of the table where policy-blocked options become admissible (for relaxations)."""
    opts = [replace(o, blocked=None) if o.blocked and (reasons is None or o.blocked in set(reasons)) else o
            for o in table.options]
    return OptionTable(request=table.request, currency=table.currency, options=opts,
                       exclusions=table.exclusions, skus=table.skus, supply=dict(table.supply),
                       notes=list(table.notes), switching=table.switching)


__all__ = ["EstimateCache", "Exclusion", "Option", "OptionTable", "OptimizerError", "SkuInfo", "bisect_first",
           "build_table", "size_grid"]
