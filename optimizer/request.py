"""The typed purchase request: a portfolio of workloads, a buyer, a budget, limits, policy, objective."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Discriminator,
    Field,
    Tag,
    field_validator,
    model_validator,
)

from optimizer.compliance import Buyer, BuyerKind, BuyerPolicy
from optimizer.errors import InvalidInputError
from optimizer.estimator.models import fill_from_preset
from optimizer.risk.spec import RiskSettings, SwitchingOverride
from optimizer.units import parse_money, parse_quantity


def _number(value: object) -> object:
    """Accept human-written numbers in request files: 70e9, "70B", "1.4T", "5000万"."""
    if isinstance(value, str):
        try:
            return parse_quantity(value)
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None
    return value


Num = Annotated[float, BeforeValidator(_number)]


def strict_date(value: object) -> object:
    """Refuse numbers, booleans and all-digit strings where a date is expected (write YYYY-MM-DD)."""
    if isinstance(value, bool | int | float) or (isinstance(value, str) and value.strip().lstrip("+-").isdigit()):
        raise ValueError(f"{value!r} is not a date; write it as YYYY-MM-DD")
    return value

MAX_MONEY = 1e15
"""Largest budget or amount accepted (10^15 in any currency is more than the world's annual output)."""
MAX_POWER_KW = 1e8
"""Largest power cap accepted (100 GW)."""
FAVOURABLE_OUTLOOKS = frozenset({"granted", "assured", "approval_presumed", "nac_notification"})
"""Licence outlooks admitted by default (licences granted, assured, approval presumed, or NAC notification)."""

Objective = Literal["min_cost", "min_time"]
Currency = Literal["CNY", "USD"]


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class TrainingWorkload(_Strict):
    """A pre-training or fine-tuning job: runs on one pool unless mixed pools are allowed."""

    kind: Literal["training", "fine_tune"] = "training"
    name: str = Field("training", min_length=1, max_length=80)
    model: str | None = Field(None, min_length=1, max_length=80,
                              description="Model preset id or alias (qwen2.5-72b); fills params and the shape.")
    params: Num = Field(gt=0, le=1e14, description="Total parameters.")
    active_params: Num | None = Field(None, gt=0, description="Active parameters per token (MoE).")
    tokens: Num = Field(gt=0, le=1e16, description="Tokens to train on.")
    seq_len: int = Field(4096, ge=128, le=1_048_576)
    precision: Literal["bf16", "fp16", "fp8"] = "bf16"
    deadline_days: float | None = Field(None, gt=0, le=3650, description="Must finish within this many days.")

    @model_validator(mode="after")
    def _active(self) -> TrainingWorkload:
        if self.active_params is not None and self.active_params > self.params:
            raise ValueError("active_params cannot exceed params")
        return self

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: object) -> object:
        return fill_from_preset(data)


class InferenceWorkload(_Strict):
    """A serving workload: capacity may be split across accelerator types."""

    kind: Literal["inference"] = "inference"
    name: str = Field("inference", min_length=1, max_length=80)
    model: str | None = Field(None, min_length=1, max_length=80, description="Model preset; fills params.")
    params: Num = Field(gt=0, le=1e14)
    active_params: Num | None = Field(None, gt=0)
    requests_per_s: float = Field(gt=0, le=1e7)
    prompt_tokens: int = Field(2048, ge=1, le=2_000_000)
    output_tokens: int = Field(512, ge=1, le=1_000_000)
    ttft_s: float = Field(2.0, gt=0, le=3600)
    tpot_s: float = Field(0.10, gt=0, le=60)
    precision: Literal["bf16", "fp16", "fp8", "int8", "fp4", "int4"] = Field(
        "bf16", description="Weights: bf16/fp16, fp8 or int8 (W8A8), fp4 (W4A4, Blackwell), int4 (weight-only).")
    kv_precision: Literal["bf16", "fp16", "fp8", "int8", "fp4"] | None = Field(
        None, description="KV-cache precision (default 16-bit).")
    engine: Literal["generic", "trtllm", "vllm", "sglang", "mindie"] | None = Field(
        None, description="Serving engine profile (default: MindIE on Ascend, else generic).")
    tp: int | None = Field(None, ge=1, le=64, description="Tensor parallelism per replica (searched when omitted).")
    pp: int | None = Field(None, ge=1, le=64, description="Pipeline stages per replica (searched when omitted).")
    ep: int | None = Field(None, ge=1, le=1024, description="Expert parallelism for MoE (= tp, data-parallel "
                           "attention); 1 keeps experts tensor-parallel.")
    latency_basis: Literal["p50", "p90", "p99", "mean"] = Field("p99", description="Statistic the TTFT/TPOT limits "
                                                                "bound.")
    prompt_tokens_std: float | None = Field(None, ge=0, le=2_000_000, description="Spread of prompt lengths.")
    output_tokens_std: float | None = Field(None, ge=0, le=1_000_000, description="Spread of output lengths.")
    prefix_cache_hit: float = Field(0.0, ge=0, le=0.99, description="Share of prompt tokens served from the "
                                    "prefix cache.")
    max_batch: int | None = Field(None, ge=1, le=1_000_000, description="Concurrent sequences per replica.")

    @model_validator(mode="before")
    @classmethod
    def _preset(cls, data: object) -> object:
        return fill_from_preset(data)


def _workload_tag(value: object) -> str:
    """training/fine_tune jobs vs inference services; without `kind`, a request rate means inference."""
    if isinstance(value, dict):
        kind = value.get("kind") or ("inference" if "requests_per_s" in value else "training")
    else:
        kind = getattr(value, "kind", "training")
    return "inference" if kind == "inference" else "training"


Workload = Annotated[
    Annotated[TrainingWorkload, Tag("training")] | Annotated[InferenceWorkload, Tag("inference")],
    Discriminator(_workload_tag),
]


class BuyerSpec(_Strict):
    """Who buys, where, when."""

    country: str = Field(min_length=2, max_length=2, description="ISO 3166-1 alpha-2.")
    kind: BuyerKind = "commercial"
    headquarters_country: str | None = Field(None, min_length=2, max_length=2)
    date: dt.date = Field(default_factory=dt.date.today)
    name: str | None = Field(None, min_length=1, max_length=200,
                             description="Legal name of the buying entity (screened against the Entity List).")
    parent: str | None = Field(None, min_length=1, max_length=200,
                               description="Name of the buyer's parent, owner of 50 % or more (Affiliates rule).")
    via_country: str | None = Field(None, min_length=2, max_length=2, description="Country the items are re-exported "
                                    "or trans-shipped from (none: shipped directly by the US exporter).")

    @field_validator("country", "headquarters_country")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return v.upper() if v else v

    @field_validator("via_country")
    @classmethod
    def _upper_via(cls, v: str | None) -> str | None:
        return v.upper() if v else v

    def as_buyer(self) -> Buyer:
        """The buyer as the compliance engine checks it (location, kind, headquarters, date, names, route)."""
        return Buyer(country=self.country, kind=self.kind, headquarters_country=self.headquarters_country,
                     on=self.date, name=self.name, parent=self.parent, via_country=self.via_country)
    @field_validator("date", mode="before")
    @classmethod
    def _a_date(cls, v: object) -> object:
        """A date is a date: pydantic would read 0, "0" or 1.7e9 as a Unix time (0 is 1970-01-01)."""
        return strict_date(v)


class Budget(_Strict):
    """Money available for capex + opex over the horizon."""

    amount: float = Field(gt=0, le=MAX_MONEY, description="Budget in `currency` (capex + opex over the horizon).")
    currency: Currency = "CNY"

    @model_validator(mode="before")
    @classmethod
    def _human(cls, data: object) -> object:
        """Accept "¥5000万", "$7M", "50M CNY" (the currency written in the amount wins if none is given)."""
        if isinstance(data, str | int | float):
            data = {"amount": data}
        if isinstance(data, dict) and isinstance(data.get("amount"), str):
            try:
                amount, cur = parse_money(data["amount"])
            except InvalidInputError as exc:
                raise ValueError(exc.message) from None
            data = {**data, "amount": amount}
            if cur is not None:
                given = data.get("currency")
                if given is not None and str(given).upper() != cur:
                    raise ValueError(f"amount is written in {cur} but currency says {given}")
                data["currency"] = cur
        if isinstance(data, dict) and isinstance(data.get("currency"), str):
            data = {**data, "currency": data["currency"].upper()}
        return data


class Limits(_Strict):
    """Physical and supply limits."""

    power_kw: float | None = Field(None, gt=0, le=MAX_POWER_KW, description="Facility power cap (kW, incl. PUE).")
    racks: int | None = Field(None, ge=1, le=1_000_000)
    nodes_per_rack: int = Field(4, ge=1, le=64, description="Nodes that fit a rack (assumption: 4 × ~10 kW).")
    supply: dict[str, int] = Field(default_factory=dict, description="Maximum accelerators obtainable per SKU.")

    @field_validator("supply")
    @classmethod
    def _nonneg(cls, v: dict[str, int]) -> dict[str, int]:
        for sku, n in v.items():
            if n < 0:
                raise ValueError(f"supply for {sku} must not be negative")
        return v


class PurchaseRequest(_Strict):
    """Everything the optimizer needs to choose a purchase plan."""

    workloads: list[Workload] = Field(min_length=1, max_length=20)
    buyer: BuyerSpec
    budget: Budget | None = None
    currency: Currency | None = Field(None, description="Reporting currency (default: the budget's, else CNY).")
    objective: Objective | None = Field(None, description="Default: min_cost when deadlines are given, else min_time.")
    limits: Limits = Field(default_factory=Limits)
    policy: BuyerPolicy = Field(default_factory=BuyerPolicy)
    allowed_fabrics: list[str] | None = None
    skus: list[str] | None = Field(None, description="Only consider these accelerators (default: all).")
    horizon_years: float = Field(3.0, gt=0, le=20)
    allow_mixed_pools: bool = False
    mixed_pool_penalty: float = Field(0.85, gt=0, le=1, description="Throughput factor of a mixed training pool.")
    alternatives: int = Field(3, ge=0, le=10)
    pareto: bool = False
    lead_time_days: float = Field(0.0, ge=0, le=3650, description="Days from order to a working cluster; "
                                  "counts against every training deadline.")
    accept_license_risk: bool = Field(False, description="Admit licence-required parts whose outlook is not "
                                      "favourable (not granted yet, case by case, undetermined).")
    exclude_weak_prices: bool = Field(False, description="Exclude parts priced only by weak (grade W) reports.")
    risk: RiskSettings | None = Field(None, description="Hedge the plan against policy shocks: scenario set, "
                                      "objective (on_time, expected_cost, cvar) and the buyer's current software "
                                      "stack; the plan then carries a `risk` block (optimizer/risk).")
    current_stack: str | None = Field(None, min_length=2, max_length=40, description="The buyer's software stack "
                                      "today (CUDA, CANN, ROCm, other): a workload moved to a part of another "
                                      "ecosystem pays a one-time porting cost and trains slower at first (ramp).")
    switching: dict[str, SwitchingOverride] = Field(default_factory=dict, description="Per target ecosystem "
                                                    "(cuda, cann, rocm …): porting engineer-months and ramp, "
                                                    "replacing the embedded assumptions.")
    person_month_cost: float | None = Field(None, gt=0, le=1e9, description="Cost of one engineer-month in the "
                                            "request's currency (default: the embedded assumption, converted).")
    break_even_prices: bool = Field(True, description="Search the break-even price of each admissible part that has "
                                    "no sourced price (a few extra solves).")

    @field_validator("current_stack")
    @classmethod
    def _stack(cls, v: str | None) -> str | None:
        return v.strip() if v else v

    @model_validator(mode="after")
    def _consistent(self) -> PurchaseRequest:
        names = [w.name for w in self.workloads]
        dup = sorted({n for n in names if names.count(n) > 1})
        if dup:
            raise ValueError(f"workload names must be unique (repeated: {', '.join(dup)})")
        if self.budget and self.currency and self.budget.currency != self.currency:
            raise ValueError("currency differs from the budget's currency; give one")
        obj = self.resolved_objective
        training = [w for w in self.workloads if isinstance(w, TrainingWorkload)]
        short = [w.name for w in training if w.deadline_days is not None and w.deadline_days <= self.lead_time_days]
        if short:
            raise ValueError(f"lead time of {self.lead_time_days:g} days leaves no time before the deadline of "
                             f"{', '.join(short)}")
        if obj == "min_cost":
            missing = [w.name for w in training if w.deadline_days is None]
            if missing:
                raise ValueError(
                    f"objective min_cost needs a deadline for training workload(s) {', '.join(missing)} "
                    "(or use objective min_time with a budget)"
                )
        if obj == "min_time" and self.budget is None and not (self.limits.power_kw or self.limits.racks
                                                               or self.limits.supply):
            raise ValueError("objective min_time needs a budget (or a power, rack or supply limit)")
        return self

    @property
    def resolved_objective(self) -> Objective:
        """The objective, defaulted from whether deadlines are given."""
        if self.objective is not None:
            return self.objective
        training = [w for w in self.workloads if isinstance(w, TrainingWorkload)]
        if training and all(w.deadline_days is not None for w in training):
            return "min_cost"
        if not training:
            return "min_cost"
        return "min_time"

    def run_deadline(self, w: TrainingWorkload) -> float | None:
        """Days a training job may run: its deadline less the lead time (None without a deadline)."""
        return None if w.deadline_days is None else w.deadline_days - self.lead_time_days

    @property
    def report_currency(self) -> Currency:
        """Currency of all reported amounts."""
        return self.currency or (self.budget.currency if self.budget else "CNY")
