"""Results of the compliance engine: buyers, verdicts, rule firings, warnings, screening and buyer policy."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from optimizer.packs import DataCurrency
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

class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Buyer(_Frozen):
    """Who buys, where, when, and (for screening) under which name and parent."""

    country: str = Field(description="ISO 3166-1 alpha-2 code of where the buyer is located.")
    kind: BuyerKind = "commercial"
    headquarters_country: str | None = Field(None, description="Where the buyer's ultimate parent is headquartered.")
    on: date = Field(description="Date of the purchase or export.")
    name: str | None = Field(None, max_length=200,
                             description="Legal name of the buying entity, screened against the Entity List.")
    parent: str | None = Field(None, max_length=200, description="Name of the buyer's parent (owner of 50 % or more), "
                               "screened for the Affiliates rule.")
    via_country: str | None = Field(None, description="Country the items are re-exported or trans-shipped from when "
                                    "they do not ship directly from the US exporter (ISO code).")

    @field_validator("country", "headquarters_country", "via_country")
    @classmethod
    def _upper(cls, v: str | None) -> str | None:
        return v.strip().upper() if isinstance(v, str) else v

    @field_validator("name", "parent")
    @classmethod
    def _names(cls, v: str | None) -> str | None:
        if v is None:
            return None
        v = " ".join(v.split())
        return v or None


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


class ScreeningMatch(_Frozen):
    """A screened name that matches (or may match) a listed party."""

    query: Literal["buyer_name", "buyer_parent"] = Field(description="Which given name matched.")
    given: str = Field(description="The name as given.")
    entity_id: str
    entity: str = Field(description="The listed party's name.")
    matched: str = Field(description="The listed name, alias or Chinese name that matched.")
    match: Literal["exact", "alias", "chinese_name", "possible"] = Field(
        description="exact/alias/chinese_name: the normalised names are equal; possible: similar only, verify.")
    score: float = Field(ge=0, le=1, description="Similarity of the normalised names (1 = equal).")
    listed_on: date
    in_force: bool = Field(description="Listed on or before the checked date.")
    notice: str = Field(description="The Federal Register notice that listed the party.")
    license_requirement: str
    review_policy: str
    citations: tuple[str, ...]


class Screening(_Frozen):
    """Entity screening of the buyer's name and parent on the checked date."""

    status: Literal["not_screened", "clear", "listed", "affiliate", "possible_match"]
    buyer_name: str | None = None
    buyer_parent: str | None = None
    matches: tuple[ScreeningMatch, ...] = ()
    affiliates_rule: Literal["not_applicable", "not_yet_in_force", "in_force", "suspended", "status_unknown"] = (
        "not_applicable")
    list_as_of: date | None = Field(None, description="As-of date of the screening list used.")
    text: str = ""


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
    via_country: str | None = Field(None, description="Country the items are re-exported from (None = direct).")
    screening: Screening = Field(default_factory=lambda: Screening(status="not_screened"),
                                 description="Entity screening of buyer_name / buyer_parent.")
    unknowns: tuple[str, ...] = Field((), description="Facts the verdict depends on that no source settles "
                                      "(e.g. whether a suspension was extended).")
    data: DataCurrency | None = Field(None, description="As-of dates of the rule packs used; cautions when the "
                                      "date asked lies past them.")

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
