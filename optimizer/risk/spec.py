"""Typed risk inputs: the events of a scenario set, the defaults they are derived from, and the risk settings.

A request's ``risk`` section (and a ``--risk FILE``) is a :class:`RiskSettings`: which objective the hedge pursues,
how scenarios are drawn, which events to use (derived from the data, edited, or written by hand), the recourse
terms and the buyer's current software stack. This module imports nothing of the optimizer but the compliance
outlook names, so :mod:`optimizer.request` can carry a ``risk`` field without an import cycle.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from optimizer.compliance import Outlook

RiskObjective = Literal["on_time", "expected_cost", "cvar"]
"""on_time: maximise the probability of finishing every job on time within the budget; expected_cost: minimise the
expected total cost after recourse; cvar: minimise the mean of the worst (1 − alpha) share of outcomes."""
Grade = Literal["P", "S", "W", "D", "A"]
PriceLevel = Literal["low", "base", "high"]
MAX_SAMPLES = 2_000
"""Largest sample-average approximation accepted (the two-stage model grows with the scenarios)."""
MAX_EXACT = 20_000
"""Most joint outcomes an exact enumeration may produce."""


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", allow_inf_nan=False)


class DayRange(_Strict):
    """A range of days (delays, pauses)."""

    low: float = Field(ge=0, le=3650)
    high: float = Field(ge=0, le=3650)

    @model_validator(mode="after")
    def _ordered(self) -> DayRange:
        if self.high < self.low:
            raise ValueError(f"high ({self.high:g}) must not be below low ({self.low:g})")
        return self

    def points(self, levels: int) -> list[float]:
        """``levels`` equally spaced points from high to low (worst first); one point is the midpoint."""
        if levels <= 1 or self.high == self.low:
            return [(self.low + self.high) / 2]
        step = (self.high - self.low) / (levels - 1)
        return [self.high - i * step for i in range(levels)]


Probability = Annotated[float, Field(ge=0, le=1)]


class _Event(_Strict):
    id: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9:._\-]+$")
    group: str | None = Field(None, max_length=80, description="Correlation group: events of one group share one "
                              "draw (a bad draw hits them all); none = independent.")
    grade: Grade = Field("A", description="Evidence grade of the probability (A = assumption).")
    basis: str = Field("", max_length=1000, description="Why this figure (the anchoring events).")
    sources: tuple[str, ...] = ()


class LicenceEvent(_Event):
    """A US licence is revoked (the part never comes) or paused (it comes late) before the order is delivered."""

    kind: Literal["licence"] = "licence"
    sku: str = Field(min_length=1, max_length=100)
    outlook: str | None = Field(None, description="Licence outlook the default probabilities came from.")
    revoke: Probability
    pause: Probability = 0.0
    pause_days: DayRange = DayRange(low=60, high=180)
    discovered_after_days: float = Field(30.0, ge=0, le=3650)

    @model_validator(mode="after")
    def _total(self) -> LicenceEvent:
        if self.revoke + self.pause > 1 + 1e-9:
            raise ValueError(f"{self.id}: revoke + pause must not exceed 1")
        return self


class TighteningEvent(_Event):
    """A China-side measure bars the buyer from taking (or keeping) a foreign part before it is in use."""

    kind: Literal["tightening"] = "tightening"
    sku: str = Field(min_length=1, max_length=100)
    probability: Probability
    discovered_after_days: float = Field(60.0, ge=0, le=3650)
    reason: str = Field("", max_length=200, description="Which measure (guidance, domestic-only rule …).")


class DelayEvent(_Event):
    """Delivery of a part slips by a number of days within a range."""

    kind: Literal["delay"] = "delay"
    sku: str = Field(min_length=1, max_length=100)
    probability: Probability
    days: DayRange
    levels: int = Field(3, ge=1, le=9, description="Equally likely delay points in [low, high].")


class PriceEvent(_Event):
    """The price paid is the catalog's low, base or high figure, with these probabilities."""

    kind: Literal["price"] = "price"
    sku: str = Field(min_length=1, max_length=100)
    low: Probability = 0.25
    base: Probability = 0.5
    high: Probability = 0.25

    @model_validator(mode="after")
    def _sum(self) -> PriceEvent:
        if abs(self.low + self.base + self.high - 1) > 1e-6:
            raise ValueError(f"{self.id}: price probabilities must add up to 1 "
                             f"(got {self.low + self.base + self.high:g})")
        return self


RiskEvent = Annotated[LicenceEvent | TighteningEvent | DelayEvent | PriceEvent, Field(discriminator="kind")]


class OutlookOverride(_Strict):
    """Replacement default for one licence outlook (fields left out keep the embedded default)."""

    revoke: Probability | None = None
    pause: Probability | None = None
    pause_days: DayRange | None = None
    discovered_after_days: float | None = Field(None, ge=0, le=3650)

    @model_validator(mode="after")
    def _total(self) -> OutlookOverride:
        if self.revoke is not None and self.pause is not None and self.revoke + self.pause > 1 + 1e-9:
            raise ValueError("revoke + pause must not exceed 1")
        return self


class SwitchingOverride(_Strict):
    """Replacement switching terms for one target ecosystem (fields left out keep the embedded default)."""

    training_person_months: float | None = Field(None, ge=0, le=10_000)
    inference_person_months: float | None = Field(None, ge=0, le=10_000)
    ramp_days: float | None = Field(None, ge=0, le=3650)
    ramp_efficiency: float | None = Field(None, gt=0, le=1)


class RiskSettings(_Strict):
    """How to hedge a purchase: objective, scenario set, recourse terms and the buyer's current stack.

    The scenario set starts from events derived from the data (``derive``: licence outlooks, China-side measures,
    delivery delays, price ranges of every candidate part); ``events`` replace derived events with the same id and
    add new ones, ``drop`` removes events, ``outlooks`` change the per-outlook defaults and ``probability_scale``
    multiplies every probability (0 = no risk at all).
    """

    objective: RiskObjective = "on_time"
    samples: int = Field(200, ge=1, le=MAX_SAMPLES, description="Scenarios drawn for the sample-average approximation "
                         "(identical draws are merged); also the largest exact enumeration used by `auto`.")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="Seed of the scenario draws (same seed, same scenarios).")
    method: Literal["auto", "exact", "saa"] = Field(
        "auto", description="exact: every joint outcome with its probability; saa: seeded samples; auto: exact when "
        "the joint outcomes are at most `samples`, else saa.")
    cvar_alpha: float = Field(0.9, ge=0.5, le=0.99, description="CVaR level: the mean of the worst (1 − alpha) share.")
    derive: bool = Field(True, description="Start from the events derived from the data.")
    outlooks: dict[Outlook, OutlookOverride] = Field(default_factory=dict)
    probability_scale: float = Field(1.0, ge=0, le=10, description="Multiplies every event probability (capped so "
                                     "each event stays a probability); 0 turns all risk off.")
    events: list[RiskEvent] = Field(default_factory=list, max_length=500)
    drop: list[str] = Field(default_factory=list, max_length=500, description="Event ids to leave out.")
    deposit_lost: float | None = Field(None, ge=0, le=1, description="Share of a never-delivered order's capex lost.")
    recourse_price_factor: float | None = Field(None, ge=0.5, le=5, description="Price of a replacement bought after "
                                                "a shock, relative to the scenario's price.")
    recourse_lead_days: float = Field(0.0, ge=0, le=3650, description="Extra days to get a replacement beyond the "
                                      "request's lead time and the part's own delays.")
    service_deadline_days: float | None = Field(None, gt=0, le=3650, description="Days from the order by which "
                                                "serving capacity must run (none: serving has no deadline).")
    time_slack: float = Field(0.10, ge=0, le=10, description="A training workload without a deadline (a fastest-"
                              "plan request) is judged on time when it finishes within today's plan's time × (1 + "
                              "slack), so a hedge cannot buy certainty by buying a cluster that takes years.")
    min_probability_on_time: float | None = Field(None, ge=0, le=1, description="For expected_cost and cvar: the "
                                                  "hedged plan must be on time at least this often (default: as often "
                                                  "as today's plan).")
    current_stack: str | None = Field(None, min_length=2, max_length=40, description="The buyer's software stack "
                                      "today (CUDA, CANN, ROCm, other): moving a workload elsewhere costs porting "
                                      "and a ramp.")
    switching: dict[str, SwitchingOverride] = Field(default_factory=dict, description="Per target ecosystem.")
    person_month_cost: float | None = Field(None, gt=0, le=1e9, description="Cost of one engineer-month in the "
                                            "request's currency (default: the embedded figure, converted).")
    as_of: dt.date | None = Field(None, description="Date the scenario set was derived for (informational).")

    @field_validator("current_stack")
    @classmethod
    def _stack(cls, v: str | None) -> str | None:
        return v.strip() if v else v

    @model_validator(mode="after")
    def _unique(self) -> RiskSettings:
        ids = [e.id for e in self.events]
        dup = sorted({i for i in ids if ids.count(i) > 1})
        if dup:
            raise ValueError(f"event ids must be unique (repeated: {', '.join(dup)})")
        return self


# ------------------------------------------------------------------------------------------ embedded defaults
class OutlookDefault(_Strict):
    """Default revocation and pause of one licence outlook."""

    revoke: Probability
    pause: Probability
    pause_days: DayRange
    discovered_after_days: float = Field(ge=0)
    basis: str
    sources: tuple[str, ...] = ()


class ProbabilityDefault(_Strict):
    """A default probability with its basis."""

    probability: Probability
    basis: str
    sources: tuple[str, ...] = ()


class TighteningDefaults(_Strict):
    """China-side tightening defaults by case."""

    discovered_after_days: float = Field(ge=0)
    guidance_commercial: ProbabilityDefault
    guidance_state_funded: ProbabilityDefault
    foreign_state_funded: ProbabilityDefault
    restricted_admitted: ProbabilityDefault


class DelayDefault(_Strict):
    """A delivery-delay default, optionally limited to buyer countries, a part origin and a start date."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    probability: Probability
    days: DayRange
    countries: tuple[str, ...] = ()
    origin: str | None = None
    since: dt.date | None = Field(None, alias="from")
    basis: str
    sources: tuple[str, ...] = ()

    def applies(self, country: str, origin: str, on: dt.date) -> bool:
        """True for a buyer in ``country`` buying a part made in ``origin`` on ``on``."""
        return ((not self.countries or country in self.countries) and (self.origin is None or origin == self.origin)
                and (self.since is None or on >= self.since))


class DelayDefaults(_Strict):
    """Delivery-delay defaults."""

    levels: int = Field(ge=1, le=9)
    default: DelayDefault
    customs: DelayDefault
    hbm_supply: DelayDefault


class PriceDefaults(_Strict):
    """Probabilities of the catalog's low, base and high prices."""

    low: Probability
    base: Probability
    high: Probability
    basis: str
    sources: tuple[str, ...] = ()


class GroupDefaults(_Strict):
    """Correlation group of each kind of derived event."""

    licence: str
    tightening: str
    customs: str
    price: str
    hbm_supply: str


class RecourseDefaults(_Strict):
    """What a revocation and a re-order cost."""

    deposit_lost: float = Field(ge=0, le=1)
    price_factor: float = Field(ge=0.5, le=5)
    basis: str
    sources: tuple[str, ...] = ()


class SwitchingDefault(_Strict):
    """Porting effort and efficiency ramp of moving one workload to a target ecosystem."""

    training_person_months: float = Field(ge=0)
    inference_person_months: float = Field(ge=0)
    ramp_days: float = Field(ge=0)
    ramp_efficiency: float = Field(gt=0, le=1)
    basis: str
    sources: tuple[str, ...] = ()


class Money(_Strict):
    """An amount in CNY or USD."""

    amount: float = Field(gt=0)
    currency: Literal["CNY", "USD"]


class SwitchingDefaults(_Strict):
    """Switching defaults: the engineer-month cost and the terms per target ecosystem family."""

    person_month_cost: Money
    person_month_basis: str
    targets: dict[str, SwitchingDefault]


class SourceRef(_Strict):
    """A source cited by the risk defaults."""

    title: str
    url: str | None = None


class RiskDefaults(_Strict):
    """The embedded defaults file (optimizer/data/risk.yaml)."""

    schema_version: int = 1
    sources: dict[str, SourceRef]
    outlooks: dict[Outlook, OutlookDefault]
    tightening: TighteningDefaults
    delays: DelayDefaults
    prices: PriceDefaults
    groups: GroupDefaults
    recourse: RecourseDefaults
    switching: SwitchingDefaults

    @model_validator(mode="after")
    def _cited(self) -> RiskDefaults:
        cited: list[str] = []
        for o in self.outlooks.values():
            cited += o.sources
        t = self.tightening
        for p in (t.guidance_commercial, t.guidance_state_funded, t.foreign_state_funded, t.restricted_admitted):
            cited += p.sources
        for d in (self.delays.default, self.delays.customs, self.delays.hbm_supply):
            cited += d.sources
        cited += self.prices.sources + self.recourse.sources
        for s in self.switching.targets.values():
            cited += s.sources
        missing = sorted(set(cited) - set(self.sources))
        if missing:
            raise ValueError(f"source ids not registered under `sources:`: {', '.join(missing)}")
        if "other" not in self.switching.targets:
            raise ValueError("switching.targets needs an `other` entry")
        return self
