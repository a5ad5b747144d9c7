"""The purchase plan returned to users (the stable JSON of DESIGN.md §7 plus explanations)."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from optimizer.compliance.results import Screening
from optimizer.estimator.inference import ServingAssumed
from optimizer.packs import DataCurrency
from optimizer.reasons import Why
from optimizer.risk.report import RiskReport, SwitchingCharge, SwitchingTerm
from optimizer.validate import ValidationResult


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class PlanItem(_Out):
    """What to buy for one workload on one accelerator type."""

    workload: str
    kind: Literal["training", "inference"]
    option_id: str
    units: int
    sku: str
    name: str
    vendor: str
    domestic: bool
    nodes: int
    accelerators: int
    fabric: str | None = None
    capex: float
    opex: float
    total_cost: float
    total_cost_low: float
    total_cost_high: float
    time_days: float | None = None
    capacity_rps: float | None = None
    power_kw: float
    network: float = Field(0.0, description="Scale-out network capex (part of capex and total).")
    hosting: float = Field(0.0, description="Hosting/maintenance over the horizon (part of opex and total).")
    hardware: float = Field(
        0.0, description="Servers with their accelerators (part of capex); fees and the licence-risk premium are "
        "fee_fraction and risk_premium times this amount."
    )
    plan: str
    mfu: float | None = None
    verdict: str
    license_outlook: str | None = None
    risk_premium: float = 0.0
    fee_fraction: float = 0.0
    serving: ServingAssumed | None = Field(None, description="Inference items: the engine, precisions, layout and "
                                           "latencies the capacity assumes.")
    ramp_days_added: float = Field(0.0, description="Training days the switching ramp adds (part of time_days) when "
                                   "the part is of another software ecosystem than the buyer's current stack.")


class PlanSwitching(_Out):
    """Leaving the buyer's current software stack: the porting each workload pays, and the assumptions behind it."""

    current_stack: str = Field(description="Ecosystem family of the buyer's stack today (cuda, cann, rocm, other …).")
    cost: float = Field(description="One-time porting in the plan (the `switching` cost line, part of total_cost).")
    charges: list[SwitchingCharge] = Field(default_factory=list, description="Per (workload, target family) used.")
    terms: list[SwitchingTerm] = Field(default_factory=list, description="Porting and ramp per family other than "
                                       "the current one (assumptions, grade A, adjustable per request).")
    person_month_cost: float
    person_month_basis: str


class ConsideredOption(_Out):
    """The best plan per SKU for a workload, with deltas against the chosen one (or why it is excluded)."""

    workload: str
    sku: str
    name: str
    status: Literal["chosen", "feasible", "over budget", "misses deadline", "blocked by policy", "excluded"]
    accelerators: int | None = None
    total_cost: float | None = None
    time_days: float | None = None
    capacity_rps: float | None = None
    delta_cost: float | None = None
    delta_days: float | None = None
    reason: str = ""
    why: Why | None = Field(None, description="The reason as a code and its values, for wording it in any language.")


class AlternativeItem(_Out):
    """Compact line of an alternative plan."""

    workload: str
    sku: str
    accelerators: int


class Alternative(_Out):
    """A distinct runner-up plan (different accelerator choice for at least one workload)."""

    rank: int
    items: list[AlternativeItem]
    total_cost: float
    time_days: float | None
    delta_cost: float
    delta_days: float | None


class ParetoPoint(_Out):
    """A non-dominated (cost, time) plan."""

    total_cost: float
    time_days: float
    items: list[AlternativeItem]


RelaxationKind = Literal["budget", "deadline", "domestic_share", "license_policy", "policy", "power", "racks",
                         "supply", "vendor_share", "fabric", "pair"]


class Relaxation(_Out):
    """A change of the request that makes an infeasible request feasible: typed values, never formatted text.

    A single change names the request ``field`` it changes, its ``current`` value and the smallest (or, for a
    share, largest) ``value`` that works, in ``unit`` (a currency code, "days", "fraction", "kW", "racks",
    "accelerators" or None for a switch). ``verified`` is True when the changed request was re-solved and found
    feasible. ``feasible`` is False when the change alone cannot help even at its ``limit`` (values beyond a
    request's own bounds are never offered). A ``pair`` lists two changes that together make the request
    feasible when no single one does.
    """

    kind: RelaxationKind
    constraint: str = Field(description="Constraint family, with the workload for deadlines: deadline[name].")
    feasible: bool
    verified: bool = False
    field: str | None = Field(None, description="Dotted request path, e.g. budget.amount.")
    workload: str | None = None
    current: float | bool | None = None
    value: float | bool | None = None
    unit: str | None = None
    skus: list[str] = Field(default_factory=list, description="Parts the change admits or needs more of.")
    pair: list[Relaxation] = Field(default_factory=list)
    reason: Literal["insufficient_alone", "needs_fabric"] | None = None
    limit: float | None = Field(None, description="The bound up to which the change was tried (e.g. 3,650 days).")


class BreakEvenPrice(_Out):
    """The highest price per accelerator at which an unpriced part would enter the plan, verified by re-solving.

    ``status`` is ``found`` (``price`` enters the plan, ``price_above`` does not; both re-solved), ``not_chosen``
    (not chosen even at ``price``, the search floor), ``chosen_at_limit`` (still chosen at ``price``, the search
    ceiling), or ``missing_figures`` (performance or power figures are unknown: ``missing`` names them and
    ``how_to_supply`` says how to add them).
    """

    sku: str
    name: str
    status: Literal["found", "not_chosen", "chosen_at_limit", "missing_figures"]
    currency: str
    price: float | None = Field(None, description="Per accelerator: the highest price found at which it is chosen.")
    price_above: float | None = Field(None, description="A price a little higher at which it is no longer chosen.")
    node_price: float | None = Field(None, description="Node price at `price` (accelerators + server overhead).")
    accelerators_per_node: int | None = None
    verified: bool = Field(False, description="Both prices were re-solved on the real model with the plan's solver.")
    items: list[AlternativeItem] = Field(default_factory=list, description="The plan at `price`.")
    total_cost: float | None = Field(None, description="Total cost of the plan at `price`.")
    time_days: float | None = None
    missing: list[str] = Field(default_factory=list, description="Catalog figures that are unknown.")
    how_to_supply: str | None = None
    reason: str = Field("", description="Why it is not chosen (status not_chosen), from the option table.")
    probes: int = Field(0, description="Re-solves the search used.")


class Exclusion(_Out):
    """An accelerator that no plan may use, and why."""

    sku: str
    reason: str
    category: str
    workload: str | None = None
    why: Why | None = Field(None, description="The reason as a code and its values, for wording it in any language.")


class Citation(_Out):
    """A source the plan relies on."""

    id: str
    title: str
    url: str | None = None


class SolverInfo(_Out):
    """Solver status and timing."""

    status: str
    wall_time_ms: float
    stages: int
    options: int


class PurchasePlan(_Out):
    """A purchase plan with its reasons, or an infeasibility diagnosis with relaxations."""

    status: Literal["optimal", "feasible", "infeasible", "model_invalid", "unknown"]
    message: str
    objective: Literal["min_cost", "min_time"]
    currency: str
    items: list[PlanItem] = Field(default_factory=list)
    capex: float | None = None
    opex: float | None = None
    total_cost: float | None = None
    total_cost_low: float | None = None
    total_cost_high: float | None = None
    network_cost: float | None = Field(None, description="Scale-out network capex included in capex.")
    hosting_cost: float | None = Field(None, description="Hosting/maintenance over the horizon included in opex.")
    switching_cost: float | None = Field(None, description="One-time porting to other software ecosystems, included "
                                         "in total_cost (null: no current stack given).")
    switching: PlanSwitching | None = Field(None, description="The buyer's stack, porting per workload and the "
                                            "switching assumptions (present when a current stack is given).")
    lead_time_days: float = Field(0.0, description="Days from order to a working cluster (counted in deadlines).")
    time_days: float | None = Field(None, description="Longest training job (days).")
    power_kw: float | None = None
    nodes: int | None = None
    accelerators: int | None = None
    domestic_share: float | None = None
    budget: float | None = None
    binding_constraints: list[str] = Field(default_factory=list)
    considered: list[ConsideredOption] = Field(default_factory=list)
    alternatives: list[Alternative] = Field(default_factory=list)
    excluded: list[Exclusion] = Field(default_factory=list)
    pareto: list[ParetoPoint] = Field(default_factory=list)
    relaxations: list[Relaxation] = Field(default_factory=list)
    citations: list[Citation] = Field(default_factory=list)
    warnings: list[str] = Field(default_factory=list)
    validation: ValidationResult | None = None
    solver: SolverInfo | None = None
    risk: RiskReport | None = Field(None, description="Today's plan and the hedged plan under risk scenarios "
                                    "(present when the request asks for a hedge).")
    break_even: list[BreakEvenPrice] = Field(
        default_factory=list, description="Unpriced admissible parts: the price per accelerator below which each "
        "would enter the plan, or the figures missing to say.")
    data: DataCurrency | None = Field(None, description="As-of dates of the data packs used; cautions when the "
                                      "buyer's date lies more than 90 days past them.")
    screening: Screening | None = Field(None, description="Entity screening of buyer.name / buyer.parent.")
