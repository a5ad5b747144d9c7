"""The integer figures of the two-stage model, per option and scenario (pure arithmetic, no solver).

Shared by the CP-SAT model, the solver-free re-check and the brute-force oracle, so all three count the same way:
money in ``money_unit`` (thousands of the currency, coarser for huge amounts so weighted sums stay in 64 bits),
time in 0.01 day from the order date, capacity in milli-requests per second; costs and times are rounded up and
capacities down, so a scenario the model calls on time is on time in real numbers.

Timeline of a scenario (days from the order): a delivered part is ready at ``lead + delay`` and a training job on it
ends ``days`` later (its ramped time on a foreign stack); a part that does not come is learnt of on day
``disrupted_at``, and its replacement is ready at ``disrupted_at + lead + recourse_lead + delay of the replacement``.
A never-delivered order forfeits ``deposit_lost`` of its capex; a replacement costs its scenario price ×
``recourse_price_factor``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from optimizer.request import InferenceWorkload, TrainingWorkload
from optimizer.risk.sampling import Scenario, ScenarioSet
from optimizer.risk.spec import RiskObjective
from optimizer.switching import Switching
from optimizer.table import Option, OptionTable
from optimizer.units import MONEY_UNIT, POWER_UNIT_KW, THROUGHPUT_UNIT, TIME_UNIT_DAYS

RPS_UNIT = 1000.0
"""Capacity is counted in milli-requests per second (as in the purchase model)."""
_MAX_MONEY_UNITS = 10**10
"""Money units are coarsened (×10 steps) until the largest possible scenario cost fits this many units."""


def ceil_units(value: float, unit: float) -> int:
    """``value / unit`` rounded up (a tolerance keeps exact multiples exact)."""
    return math.ceil(value / unit - 1e-9)


def floor_units(value: float, unit: float) -> int:
    """``value / unit`` rounded down."""
    return math.floor(value / unit + 1e-9)


def time_units(days: float) -> int:
    """Days as 0.01-day units, rounded up."""
    return ceil_units(days, TIME_UNIT_DAYS)


def price_cost(o: Option, level: str) -> float:
    """The option's total cost at a price level (the catalog's low, base or high figures)."""
    return o.cost_low if level == "low" else (o.cost_high if level == "high" else o.cost)


def lost_cost(o: Option, level: str, deposit_lost: float) -> float:
    """What a never-delivered order of the option forfeits: ``deposit_lost`` of its capex at that price level."""
    scale = price_cost(o, level) / o.cost if o.cost > 0 else 1.0
    return deposit_lost * o.capex * scale


@dataclass(frozen=True)
class HedgeTerms:
    """Recourse, timing and objective terms of one hedge."""

    objective: RiskObjective
    deposit_lost: float
    recourse_price_factor: float
    recourse_lead_days: float
    lead_time_days: float
    service_deadline_days: float | None
    cvar_alpha: float
    min_probability_on_time: float | None = None

    @property
    def alpha_percent(self) -> int:
        """The CVaR level in whole percent (the model's integer form)."""
        return round(self.cvar_alpha * 100)


@dataclass
class ScenarioCoefs:
    """Integer figures of every option in one scenario."""

    weight: int
    keep_cost: dict[str, int] = field(default_factory=dict)
    """First-stage option → its cost here (price-level cost if delivered, lost deposit if not)."""
    delivered: dict[str, bool] = field(default_factory=dict)
    fin: dict[str, int] = field(default_factory=dict)
    """Delivered option → finish (training) or ready time (serving), 0.01-day units from the order."""
    late: dict[str, bool] = field(default_factory=dict)
    rec_cost: dict[str, int] = field(default_factory=dict)
    """Option that can replace a lost part here → its replacement cost."""
    rec_fin: dict[tuple[str, str], int] = field(default_factory=dict)
    """(lost SKU, replacement option) → finish or ready time of the replacement."""
    rec_late: dict[tuple[str, str], bool] = field(default_factory=dict)
    affected: dict[str, list[str]] = field(default_factory=dict)
    """Workload → its lost SKUs (only workloads with an option on a part that does not come)."""


@dataclass
class Coefficients:
    """Everything the model, the re-check and the oracle count with."""

    table: OptionTable
    scenarios: ScenarioSet
    terms: HedgeTerms
    switching: Switching | None
    money_unit: float
    options: list[Option]
    """Admissible options (blocked ones can be bought in neither stage)."""
    by_id: dict[str, Option]
    nominal_cost: dict[str, int]
    capacity: dict[str, int]
    power: dict[str, int]
    porting: dict[tuple[str, str], int]
    """(workload, foreign ecosystem family) → one-time porting cost."""
    family: dict[str, str | None]
    """Option → its foreign family (None on the current stack or without switching)."""
    deadline: dict[str, int | None]
    """Training workload → deadline from the order (0.01-day units); serving → the service deadline."""
    need: dict[str, int]
    budget: int | None
    power_cap: int | None
    per_scenario: list[ScenarioCoefs]
    fail_penalty: int
    classes: list[list[int]] = field(default_factory=list)
    """Scenarios the buyer cannot tell apart when re-ordering (same parts lost on the same days): they share one
    recourse. Delays and prices are not known when the replacement is ordered."""

    @property
    def total_weight(self) -> int:
        """Sum of the scenario weights."""
        return self.scenarios.total_weight

    def workload_options(self, name: str) -> list[Option]:
        """Admissible options of one workload."""
        return [o for o in self.options if o.workload == name]


def _money_unit(table: OptionTable, terms: HedgeTerms, porting: float) -> float:
    top = sum(max(o.cost_high, o.cost) * o.max_units for o in table.options if o.blocked is None)
    bound = 2 * (top * max(1.0, terms.recourse_price_factor) * 2 + porting) + 1
    unit = MONEY_UNIT
    while bound / unit > _MAX_MONEY_UNITS:
        unit *= 10
    return unit


def build_coefficients(table: OptionTable, scenarios: ScenarioSet, terms: HedgeTerms,
                       switching: Switching | None) -> Coefficients:
    """Integer figures of the (ramped) option table in every scenario."""
    req = table.request
    options = [o for o in table.options if o.blocked is None]
    kinds = {w.name: ("training" if isinstance(w, TrainingWorkload) else "inference") for w in req.workloads}
    porting_real: dict[tuple[str, str], float] = {}
    family: dict[str, str | None] = {}
    for o in options:
        fam = switching.families[o.sku] if switching is not None and switching.foreign(o.sku) else None
        family[o.id] = fam
        if fam is not None and switching is not None:
            porting_real[(o.workload, fam)] = switching.charge(kinds[o.workload], o.sku)
    unit = _money_unit(table, terms, sum(porting_real.values()))
    deadline: dict[str, int | None] = {}
    need: dict[str, int] = {}
    for w in req.workloads:
        if isinstance(w, TrainingWorkload):
            deadline[w.name] = None if w.deadline_days is None else floor_units(w.deadline_days, TIME_UNIT_DAYS)
        else:
            assert isinstance(w, InferenceWorkload)
            sd = terms.service_deadline_days
            deadline[w.name] = None if sd is None else floor_units(sd, TIME_UNIT_DAYS)
            need[w.name] = math.ceil(w.requests_per_s * RPS_UNIT)
    co = Coefficients(
        table=table, scenarios=scenarios, terms=terms, switching=switching, money_unit=unit, options=options,
        by_id={o.id: o for o in options}, nominal_cost={o.id: ceil_units(o.cost, unit) for o in options},
        capacity={o.id: int((o.capacity_rps or 0) * RPS_UNIT / THROUGHPUT_UNIT) for o in options},
        power={o.id: ceil_units(o.power_kw, POWER_UNIT_KW) for o in options},
        porting={k: ceil_units(v, unit) for k, v in porting_real.items()}, family=family, deadline=deadline,
        need=need, budget=None if req.budget is None else floor_units(req.budget.amount, unit),
        power_cap=None if req.limits.power_kw is None else floor_units(req.limits.power_kw, POWER_UNIT_KW),
        per_scenario=[], fail_penalty=0,
    )
    top_cost = 0
    for s in scenarios.scenarios:
        sc = _scenario_coefs(co, s)
        co.per_scenario.append(sc)
        top_cost = max(top_cost, sum(max(sc.keep_cost[o.id], sc.rec_cost.get(o.id, 0)) * o.max_units
                                     for o in options))
    co.fail_penalty = 2 * (top_cost + sum(co.porting.values())) + 1
    by_key: dict[tuple[tuple[str, float], ...], list[int]] = {}
    for j, s in enumerate(scenarios.scenarios):
        by_key.setdefault(disruption_key(s), []).append(j)
    co.classes = list(by_key.values())
    return co


def disruption_key(s: Scenario) -> tuple[tuple[str, float], ...]:
    """What a buyer knows when re-ordering: which parts will not come and when that was learnt."""
    return tuple(sorted((sku, st.disrupted_at) for sku, st in s.states.items() if st.disrupted_at is not None))


def _scenario_coefs(co: Coefficients, s: Scenario) -> ScenarioCoefs:
    t = co.terms
    sc = ScenarioCoefs(weight=s.weight)
    lost: dict[str, float] = {}
    for o in co.options:
        st = s.state(o.sku)
        if st.disrupted_at is not None:
            sc.keep_cost[o.id] = ceil_units(lost_cost(o, st.price, t.deposit_lost), co.money_unit)
            sc.delivered[o.id] = False
            lost[o.sku] = st.disrupted_at
            sc.affected.setdefault(o.workload, [])
            if o.sku not in sc.affected[o.workload]:
                sc.affected[o.workload].append(o.sku)
            continue
        sc.keep_cost[o.id] = ceil_units(price_cost(o, st.price), co.money_unit)
        sc.delivered[o.id] = True
        ready = t.lead_time_days + st.delay
        fin = time_units(ready + (o.days or 0.0) if o.kind == "training" else ready)
        sc.fin[o.id] = fin
        limit = co.deadline[o.workload]
        sc.late[o.id] = limit is not None and fin > limit
        sc.rec_cost[o.id] = ceil_units(price_cost(o, st.price) * t.recourse_price_factor, co.money_unit)
    for w, skus in sc.affected.items():
        limit = co.deadline[w]
        for o in co.workload_options(w):
            if not sc.delivered[o.id]:
                continue
            st = s.state(o.sku)
            for k in skus:
                ready = lost[k] + t.lead_time_days + t.recourse_lead_days + st.delay
                fin = time_units(ready + (o.days or 0.0) if o.kind == "training" else ready)
                sc.rec_fin[(k, o.id)] = fin
                sc.rec_late[(k, o.id)] = limit is not None and fin > limit
    return sc

