"""The ``risk`` block of a plan: base and hedged outcomes per scenario, their summaries, and the hedged plan.

Plain pydantic values (no solver import): :class:`optimizer.plan.PurchasePlan` carries a :class:`RiskReport` as its
``risk`` field, and every door (CLI ``--json``, HTTP, batch rows, the memo) presents it as it is.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from optimizer.risk.spec import RiskSettings


class _Out(BaseModel):
    model_config = ConfigDict(frozen=True)


class RecourseItem(_Out):
    """A replacement bought in a scenario after a part did not come."""

    workload: str
    sku: str
    nodes: int
    accelerators: int
    cost: float = Field(description="Its cost at the scenario's price and the recourse mark-up (currency).")
    ready_day: float = Field(description="Day (from the order) the replacement is working.")


class Outcome(_Out):
    """How one plan fares in one scenario, after its recourse."""

    feasible: bool = Field(description="Every workload is served (a replacement existed for every lost part).")
    on_time: bool = Field(description="Feasible, every deadline met and the total within the budget.")
    days: float | None = Field(description="Day (from the order) the last training job ends (serving-only plans: "
                               "the day the last capacity runs).")
    total_cost: float = Field(description="Total cost after recourse: what was paid, incl. lost deposits and porting.")
    lost: list[str] = Field(default_factory=list, description="Parts of the plan that did not come.")
    unserved: list[str] = Field(default_factory=list, description="Workloads no replacement could serve.")
    late: list[str] = Field(default_factory=list, description="Workloads that missed their deadline.")
    recourse: list[RecourseItem] = Field(default_factory=list)


class Shock(_Out):
    """One event that fires in a scenario, as a code and its values (for wording it in any language)."""

    code: Literal["revoked", "paused", "barred", "delayed", "price_high", "price_low"]
    sku: str
    days: float | None = None


class ScenarioResult(_Out):
    """One scenario with the base and the hedged plan's outcomes."""

    name: str
    probability: float
    events: list[str] = Field(default_factory=list, description="What happens in it (empty: no shock).")
    shocks: list[Shock] = Field(default_factory=list, description="The same events as codes and values.")
    base: Outcome | None = Field(None, description="Today's plan in this scenario (None: no plan today).")
    hedged: Outcome | None = None


class BaseHedged(_Out):
    """A figure for today's (base) plan and for the hedged plan."""

    base: float | None = None
    hedged: float | None = None


class HedgedItem(_Out):
    """A line of the hedged plan."""

    workload: str
    kind: Literal["training", "inference"]
    option_id: str
    units: int
    sku: str
    name: str
    vendor: str
    domestic: bool
    ecosystem: str | None = None
    nodes: int
    accelerators: int
    total_cost: float = Field(description="Nominal total cost (base prices, no shock), porting excluded.")
    time_days: float | None = Field(None, description="Training days, with the switching ramp when one applies.")
    capacity_rps: float | None = None
    verdict: str
    license_outlook: str | None = None


class HedgeValue(_Out):
    """What the hedge costs against what it saves (positive saving = the hedge is better)."""

    upfront_cost: float = Field(description="Hedged minus base nominal cost (base prices, no shock, with porting).")
    expected_saving: float = Field(description="Base minus hedged expected total cost after recourse.")
    worst_case_saving: float
    cvar_saving: float
    probability_on_time_gain: float


class RiskEventOut(_Out):
    """An event of the scenario set, as used."""

    id: str
    kind: Literal["licence", "tightening", "delay", "price"]
    sku: str
    probability: float = Field(description="Chance the event does anything (revoke + pause for a licence; low + "
                               "high for a price).")
    group: str | None = None
    grade: str
    basis: str = ""
    sources: list[str] = Field(default_factory=list)
    detail: dict[str, float | str | None] = Field(default_factory=dict)


class Assumption(_Out):
    """A figure the hedge relies on, with its grade and basis."""

    name: str
    value: float | str
    unit: str | None = None
    grade: str = "A"
    basis: str = ""
    sources: list[str] = Field(default_factory=list)


class SwitchingTerm(_Out):
    """Porting and ramp of moving to one ecosystem family."""

    target: str
    training_person_months: float
    inference_person_months: float
    person_month_cost: float
    ramp_days: float
    ramp_efficiency: float
    grade: str = "A"
    basis: str = ""
    sources: list[str] = Field(default_factory=list)


class SwitchingCharge(_Out):
    """Porting paid by a plan for one workload moved to a family (nominal case)."""

    workload: str
    target: str
    porting_cost: float
    ramp_days_added: float | None = Field(None, description="Extra training days from the ramp (None: serving).")


class SwitchingReport(_Out):
    """The buyer's stack, the terms of each other family, and what each plan pays to switch."""

    current_stack: str
    terms: list[SwitchingTerm] = Field(default_factory=list)
    base: list[SwitchingCharge] = Field(default_factory=list)
    hedged: list[SwitchingCharge] = Field(default_factory=list)


class RiskCitation(_Out):
    """A source the scenario defaults rest on."""

    id: str
    title: str
    url: str | None = None


class RiskValidation(_Out):
    """The solver-free re-check of both plans in every scenario."""

    ok: bool
    problems: list[str] = Field(default_factory=list)


class RiskSolver(_Out):
    """Solver status and timing of the two-stage model."""

    status: str
    wall_time_ms: float
    stages: int
    scenarios: int
    variables: int


class RiskReport(_Out):
    """Base and hedged plans under the scenario set (DESIGN.md §9 ``risk`` block)."""

    objective: Literal["on_time", "expected_cost", "cvar"]
    status: Literal["optimal", "feasible", "infeasible", "model_invalid", "unknown"]
    message: str
    currency: str
    method: Literal["exact", "saa"]
    samples: int
    seed: int
    cvar_alpha: float
    same_as_base: bool = Field(description="The hedge keeps today's plan (nothing better was found).")
    scenarios: list[ScenarioResult] = Field(default_factory=list)
    probability_on_time: BaseHedged
    probability_feasible: BaseHedged
    expected_total_cost: BaseHedged
    worst_case_cost: BaseHedged
    cvar_total_cost: BaseHedged
    nominal_cost: BaseHedged = Field(description="No shock, base prices, with porting.")
    value_of_hedging: HedgeValue | None = None
    items: list[HedgedItem] = Field(default_factory=list, description="The hedged plan.")
    events: list[RiskEventOut] = Field(default_factory=list)
    switching: SwitchingReport | None = None
    assumptions: list[Assumption] = Field(default_factory=list)
    citations: list[RiskCitation] = Field(default_factory=list)
    validation: RiskValidation | None = None
    solver: RiskSolver | None = None


class ScenarioRow(_Out):
    """One scenario of the set: its name, probability and what happens in it."""

    name: str
    probability: float
    events: list[str] = Field(default_factory=list)


class ScenarioSetOut(_Out):
    """A request's scenario set: the settings to edit (every event written out) and the scenarios they give."""

    settings: RiskSettings = Field(description="Save as a file, edit, and pass back with --risk FILE.")
    events: list[RiskEventOut]
    scenarios: list[ScenarioRow]
    method: str
    joint_outcomes: int | None
    candidates: list[str] = Field(description="Parts the request could buy (the ones events are derived for).")
