"""Typed rule packs, buyers, verdicts and buyer policy for the compliance engine."""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from optimizer.reasons import Why

Verdict = Literal["allowed", "license_required", "prohibited"]
Outlook = Literal[
    "denial_presumed",
    "guidance",
    "not_granted_yet",
    "classification_undetermined",
    "case_by_case",
    "nac_notification",
    "approval_presumed",
    "assured",
    "granted",
]
"""Licence outlook, worst first. ``denial_presumed`` and ``guidance`` only accompany ``prohibited``."""
OUTLOOK_ORDER: dict[str, int] = {
    "denial_presumed": 0,
    "guidance": 1,
    "not_granted_yet": 2,
    "classification_undetermined": 3,
    "case_by_case": 4,
    "nac_notification": 5,
    "approval_presumed": 6,
    "assured": 7,
    "granted": 8,
}
OUTLOOK_TEXT: dict[str, str] = {
    "denial_presumed": "denial presumed: licence applications are reviewed under a presumption (or policy) of denial",
    "guidance": (
        "guidance: BIS guidance (not a licence requirement) warns that dealing in the item risks violating "
        "General Prohibition 10; no licence exception applies"
    ),
    "approval_presumed": (
        "approval presumed: a licence is required and applications are reviewed with a presumption of approval"
    ),
    "not_granted_yet": "a licence is required and none has been granted yet",
    "classification_undetermined": "classification cannot be determined from sourced data; treat as licence-required",
    "case_by_case": "licences are reviewed case by case (conditions apply)",
    "nac_notification": "License Exception NAC: notify BIS before export; BIS may still require a licence",
    "assured": "licences are assured and being granted",
    "granted": "licences have been granted",
}
Severity = Literal["info", "caution", "restrictive"]
SEVERITY_ORDER: dict[str, int] = {"info": 0, "caution": 1, "restrictive": 2}
BuyerKind = Literal["commercial", "state_funded"]
RuleKind = Literal[
    "is_informed",
    "eccn_3a090_2022",
    "eccn_3a090_2023",
    "hbm_supply",
    "notice",
    "outlook_change",
    "cost_adder",
    "gp10_guidance",
    "embargo",
    "case_by_case_review",
    "tariff_band",
    "headquarters_rule",
    "cn_guidance",
    "cn_domestic_only",
]


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Membership(_Frozen):
    """One country's membership of a group, with the dates it holds (inclusive) and its source."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    code: str = Field(pattern=r"^[A-Z]{2}$")
    since: date | None = Field(None, alias="from", description="First day of membership (None = before any rule here).")
    until: date | None = Field(None, alias="to", description="Last day of membership (None = still a member).")
    source: tuple[str, ...] = ()
    note: str | None = None

    def holds(self, on: date) -> bool:
        """True when the membership is in force on ``on``."""
        return (self.since is None or self.since <= on) and (self.until is None or on <= self.until)


class CountryGroup(_Frozen):
    """A named set of ISO country codes (dated memberships), or a union of groups minus other groups."""

    label: str | None = Field(None, description="Name used by the regulation, e.g. 'D:1'.")
    title: str | None = None
    members: tuple[Membership, ...] = ()
    union: tuple[str, ...] = Field((), description="Groups (of the same pack) whose members belong to this one.")
    minus: tuple[str, ...] = Field((), description="Groups whose members are removed from this one.")
    source: tuple[str, ...] = Field(min_length=1)
    note: str | None = None

    @field_validator("members", mode="before")
    @classmethod
    def _codes(cls, v: Any) -> Any:
        if isinstance(v, (list, tuple)):
            return [{"code": m} if isinstance(m, str) else m for m in v]
        return v


class Review(_Frozen):
    """Licence review policy for destinations in one group (first matching entry wins)."""

    group: str
    effect: Literal["prohibited", "license_required"]
    outlook: Outlook


class Params2022(_Frozen):
    """Oct-2022 3A090 thresholds."""

    tpp_min: float
    io_gbps_min: float


class Params2023(_Frozen):
    """Oct-2023 3A090.a/.b thresholds (TPP and performance density)."""

    a1_tpp: float
    a2_tpp: float
    a2_pd: float
    b1_tpp_low: float
    b1_pd_low: float
    b2_tpp: float
    b2_pd_low: float


class CaseByCaseParams(_Frozen):
    """Jan-2026 case-by-case eligibility limits."""

    tpp_below: float
    dram_gbps_below: float


class FractionParams(_Frozen):
    """A fee as a fraction of the purchase price."""

    fraction: float = Field(ge=0, le=5)


class TariffBand(_Frozen):
    """One TPP/bandwidth band of the Jan-2026 chip tariff."""

    tpp_min: float
    tpp_max: float
    dram_gbps_min: float
    dram_gbps_max: float


class TariffParams(_Frozen):
    """Tariff fraction and its bands."""

    fraction: float = Field(ge=0, le=5)
    bands: tuple[TariffBand, ...] = Field(min_length=1)


class HbmParams(_Frozen):
    """3A090.c memory-bandwidth-density threshold."""

    density_gbps_per_mm2: float


class AppliesTo(_Frozen):
    """Filter for notices."""

    skus: tuple[str, ...] = ()
    us_origin: bool | None = None
    classification: tuple[str, ...] = ()


_PARAMS: dict[str, type[BaseModel]] = {
    "eccn_3a090_2022": Params2022,
    "eccn_3a090_2023": Params2023,
    "case_by_case_review": CaseByCaseParams,
    "cost_adder": FractionParams,
    "tariff_band": TariffParams,
    "hbm_supply": HbmParams,
}


class Rule(_Frozen):
    """One rule of a rule pack: when it applies, to what, and what it does."""

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    aliases: tuple[str, ...] = Field((), description="Former ids (still accepted by what-if rule-date moves).")
    kind: RuleKind
    title: str
    jurisdiction: Literal["US", "CN"] = "US"
    effective_from: date
    effective_to: date | None = None
    destinations: str | None = Field(None, description="Country group the buyer must be in (or headquartered in).")
    exempt_destinations: str | None = None
    developed_in: str | None = Field(None, description="Country group of the part's designer (foreign-made parts).")
    skus: tuple[str, ...] = ()
    vendors: tuple[str, ...] = ()
    buyer_kinds: tuple[BuyerKind, ...] = ()
    equivalent_to: str | None = Field(None, description="SKU whose bandwidths define 'equivalent' parts.")
    review: tuple[Review, ...] = Field((), description="Review policy by destination group (first match wins).")
    effect: Literal["prohibited", "license_required"] | None = None
    outlook: Outlook | None = None
    severity: Severity | dict[BuyerKind, Severity] | None = None
    modifies: str | None = None
    requires_us_commercial_availability: bool = False
    applies_to: AppliesTo | None = None
    params: Any = None
    text: str | None = None
    citations: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _check_kind(self) -> Rule:
        if self.effective_to is not None and self.effective_to < self.effective_from:
            raise ValueError(f"rule {self.id}: effective_to is before effective_from")
        model = _PARAMS.get(self.kind)
        if model is not None:
            if self.params is None:
                raise ValueError(f"rule {self.id}: kind {self.kind} needs `params`")
            object.__setattr__(self, "params", model.model_validate(self.params))
        if self.kind in ("is_informed", "eccn_3a090_2022", "eccn_3a090_2023", "embargo", "gp10_guidance") \
                and self.effect is None:
            raise ValueError(f"rule {self.id}: kind {self.kind} needs an `effect`")
        if self.kind in ("outlook_change", "case_by_case_review") and (not self.modifies or not self.outlook):
            raise ValueError(f"rule {self.id}: kind {self.kind} needs `modifies` and `outlook`")
        if self.kind in ("cn_guidance", "cn_domestic_only", "gp10_guidance", "notice") and self.severity is None:
            raise ValueError(f"rule {self.id}: kind {self.kind} needs a `severity`")
        return self

    def in_force(self, on: date) -> bool:
        """True when the rule applies on the given date."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def severity_for(self, kind: BuyerKind) -> Severity | None:
        """Severity for a buyer kind (None when the rule does not concern that kind)."""
        if isinstance(self.severity, dict):
            return self.severity.get(kind)
        return self.severity


class RulePack(_Frozen):
    """A file of rules for one jurisdiction."""

    schema_version: int = 1
    jurisdiction: Literal["US", "CN"]
    country_groups: dict[str, CountryGroup]
    rules: tuple[Rule, ...]


class Buyer(_Frozen):
    """Who buys, where, and on which date the purchase is checked."""

    country: str = Field(description="ISO 3166-1 alpha-2 code of where the buyer is located.")
    kind: BuyerKind = "commercial"
    headquarters_country: str | None = Field(None, description="Where the buyer's ultimate parent is headquartered.")
    on: date = Field(description="Date of the purchase or export.")

    @field_validator("country", "headquarters_country")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return v.strip().upper() if isinstance(v, str) else v


class RuleFiring(_Frozen):
    """What one rule did for this check, with its arithmetic."""

    rule_id: str
    title: str
    jurisdiction: Literal["US", "CN"]
    effect: Literal["prohibited", "license_required", "warning", "cost_adder", "classification", "outlook_change"]
    outlook: Outlook | None = None
    severity: Severity | None = None
    fee_fraction: float | None = None
    arithmetic: tuple[str, ...] = ()
    text: str
    citations: tuple[str, ...]


class ComplianceWarning(_Frozen):
    """A risk or measure that does not change the export verdict."""

    rule_id: str
    severity: Severity
    text: str
    citations: tuple[str, ...]
    why: Why | None = None


class CostAdder(_Frozen):
    """A fee or tariff added to the purchase price."""

    rule_id: str
    fraction: float
    text: str
    citations: tuple[str, ...]


class ComplianceResult(_Frozen):
    """The verdict for one (SKU, buyer, date) with every rule that fired."""

    sku: str
    name: str
    buyer_country: str
    buyer_kind: BuyerKind
    headquarters_country: str | None
    date: date
    country_groups: tuple[str, ...] = Field(
        (), description="Regulatory country groups (e.g. 'D:4', 'A:5') the buyer's country belongs to on the date."
    )
    headquarters_groups: tuple[str, ...] = Field((), description="Country groups of the headquarters country.")
    subject_to_ear: bool
    tpp: float | None = Field(
        description="Total processing performance (dense peak x bit length, max over precisions)."
    )
    tpp_low: float | None = None
    tpp_high: float | None = None
    tpp_precision: str | None = None
    performance_density: float | None = Field(description="TPP / logic die area (mm2); None when the area is unknown.")
    classification: str
    equivalent_tier: str | None = Field(None, description="3A090 tier the TPP/PD would meet, for non-US parts.")
    verdict: Verdict
    license_outlook: Outlook | None = None
    license_outlook_text: str | None = None
    reasons: tuple[str, ...]
    rules: tuple[RuleFiring, ...]
    warnings: tuple[ComplianceWarning, ...]
    cost_adders: tuple[CostAdder, ...]
    citations: tuple[str, ...]

    @property
    def max_warning_severity(self) -> Severity | None:
        """Worst warning severity, if any."""
        if not self.warnings:
            return None
        worst = max(self.warnings, key=lambda w: SEVERITY_ORDER[w.severity])
        return worst.severity

    @property
    def fee_fraction(self) -> float:
        """Sum of all cost adders as a fraction of price."""
        return sum(c.fraction for c in self.cost_adders)


class BuyerPolicy(_Frozen):
    """How a buyer treats licence-required parts, domestic share and vendors."""

    license_required: Literal["exclude", "allow_with_risk_premium", "allow"] = Field(
        "allow_with_risk_premium", description="Treatment of parts whose verdict is license_required."
    )
    risk_premium: dict[Outlook, float] = Field(
        default_factory=lambda: {  # type: ignore[arg-type]
            "granted": 0.05,
            "approval_presumed": 0.05,
            "assured": 0.10,
            "nac_notification": 0.05,
            "case_by_case": 0.25,
            "classification_undetermined": 0.25,
            "not_granted_yet": 0.50,
        },
        description="Risk premium as a fraction of capex, by licence outlook (policy choice, not a fact).",
    )
    caution_premium: float = Field(0.0, ge=0, le=1, description="Premium for parts carrying caution warnings.")
    allow_restricted: bool = Field(
        False, description="Allow parts with 'restrictive' warnings (China-side guidance, undetermined GP10 risk)."
    )
    min_domestic_share: float = Field(
        0.0, ge=0, le=1, description="Minimum share of accelerators from Chinese vendors."
    )
    vendor_allow: tuple[str, ...] | None = Field(None, description="Only these vendors (None = any).")
    vendor_deny: tuple[str, ...] = ()
    max_vendor_share: float = Field(1.0, gt=0, le=1, description="Maximum share of accelerators from one vendor.")

    @field_validator("risk_premium")
    @classmethod
    def _premiums(cls, v: dict[str, float]) -> dict[str, float]:
        for outlook, p in v.items():
            if not 0 <= p <= 5:
                raise ValueError(f"risk premium for {outlook} must be between 0 and 5 (got {p})")
        return v

    @field_validator("vendor_allow", "vendor_deny")
    @classmethod
    def _lower(cls, v: tuple[str, ...] | None) -> tuple[str, ...] | None:
        return None if v is None else tuple(s.strip().lower() for s in v)

    @model_validator(mode="after")
    def _consistent(self) -> BuyerPolicy:
        if self.vendor_allow is not None:
            both = sorted(set(self.vendor_allow) & set(self.vendor_deny))
            if both:
                raise ValueError(f"vendor(s) {', '.join(both)} are both allowed and denied")
            if not set(self.vendor_allow) - set(self.vendor_deny):
                raise ValueError("vendor_allow leaves no vendor")
            n = len(set(self.vendor_allow))
            if self.max_vendor_share * n < 1 - 1e-9:
                raise ValueError(
                    f"max_vendor_share {self.max_vendor_share} with only {n} allowed vendor(s) cannot reach 100%"
                )
        return self


class PolicyDecision(_Frozen):
    """Whether a policy admits a part, and at what premium."""

    admissible: bool
    premium: float = 0.0
    reason: str
    why: Why | None = None
