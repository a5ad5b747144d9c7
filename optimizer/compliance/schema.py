"""Typed rule packs and country-group packs for the compliance engine.

Results (buyers, verdicts, firings, policy) live in :mod:`optimizer.compliance.results` and the ``params`` of each
rule kind in :mod:`optimizer.compliance.params`; both are re-exported here for callers that import them from the
schema. Which kinds exist, and what each requires, comes from the one registry (:mod:`optimizer.compliance.registry`).
"""

from __future__ import annotations

from datetime import date
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from optimizer.catalog.schema import Source
from optimizer.compliance import registry
from optimizer.compliance.params import (
    CaseByCaseParams,
    FractionParams,
    HbmParams,
    Params2022,
    Params2023,
    ScreeningParams,
    TariffBand,
    TariffParams,
)
from optimizer.compliance.results import (
    OUTLOOK_ORDER,
    OUTLOOK_TEXT,
    SEVERITY_ORDER,
    Buyer,
    BuyerKind,
    BuyerPolicy,
    ComplianceResult,
    ComplianceWarning,
    CostAdder,
    Outlook,
    PolicyDecision,
    RuleFiring,
    Screening,
    ScreeningMatch,
    Severity,
    Verdict,
)
from optimizer.packs import PackHeader

Jurisdiction = Literal["US", "CN"]


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
    union: tuple[str, ...] = Field((), description="Groups of the same jurisdiction whose members belong here.")
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


class AppliesTo(_Frozen):
    """Which parts a notice or China-side measure concerns (every given filter must hold)."""

    skus: tuple[str, ...] = ()
    us_origin: bool | None = None
    classification: tuple[str, ...] = ()
    datacenter: bool | None = None


class Suspension(_Frozen):
    """A period (inclusive) in which a rule in force does not apply."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    since: date = Field(alias="from")
    until: date = Field(alias="to")
    source: tuple[str, ...] = Field(min_length=1)
    note: str | None = None

    def covers(self, on: date) -> bool:
        """True when ``on`` lies in the suspension."""
        return self.since <= on <= self.until


class Rule(_Frozen):
    """One rule of a rule pack: when it applies, to what, and what it does."""

    id: str = Field(pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
    aliases: tuple[str, ...] = Field((), description="Former ids (still accepted by what-if rule-date moves).")
    kind: str = Field(description="One of the registered rule kinds (optimizer.compliance.registry).")
    title: str
    jurisdiction: Jurisdiction = "US"
    effective_from: date
    effective_to: date | None = None
    suspensions: tuple[Suspension, ...] = Field((), description="Periods in which the rule does not apply.")
    status_unknown_after: date | None = Field(
        None, description="Last day the rule's status is known; after it the answer says the status is unconfirmed.")
    destinations: str | None = Field(None, description="Country group the buyer must be in (or headquartered in).")
    exempt_destinations: str | None = None
    via_destinations: str | None = Field(None, description="Country group the items must pass through (re-export "
                                         "or trans-shipment) for the rule to apply.")
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
        spec = registry.spec(self.kind)
        if spec is None:
            raise ValueError(f"rule {self.id}: unknown kind {self.kind!r} (known: {', '.join(registry.kind_names())})")
        if spec.params is not None:
            if self.params is None:
                raise ValueError(f"rule {self.id}: kind {self.kind} needs `params`")
            object.__setattr__(self, "params", spec.params.model_validate(self.params))
        missing = [n for n in spec.needs if getattr(self, n) is None]
        if missing:
            raise ValueError(f"rule {self.id}: kind {self.kind} needs {' and '.join(f'`{m}`' for m in missing)}")
        for s in self.suspensions:
            if s.until < s.since:
                raise ValueError(f"rule {self.id}: a suspension ends before it starts")
        return self

    def in_force(self, on: date) -> bool:
        """True when the rule has taken effect and not ended on ``on`` (suspensions are checked apart)."""
        return self.effective_from <= on and (self.effective_to is None or on <= self.effective_to)

    def suspended(self, on: date) -> Suspension | None:
        """The suspension covering ``on`` (None when the rule is not suspended then)."""
        return next((s for s in self.suspensions if s.covers(on)), None)

    def status_unknown(self, on: date) -> bool:
        """True when ``on`` lies past the last day the rule's status is known."""
        return self.status_unknown_after is not None and on > self.status_unknown_after

    def severity_for(self, kind: BuyerKind) -> Severity | None:
        """Severity for a buyer kind (None when the rule does not concern that kind)."""
        if isinstance(self.severity, dict):
            return self.severity.get(kind)
        return self.severity


class RulePack(_Frozen):
    """A file of rules for one jurisdiction (a dated pack when it has a ``pack:`` header)."""

    pack: PackHeader | None = None
    schema_version: int = 1
    jurisdiction: Jurisdiction
    sources: dict[str, Source] = Field(default_factory=dict, description="Sources the pack adds to the registry.")
    country_groups: dict[str, CountryGroup] = Field(default_factory=dict)
    rules: tuple[Rule, ...]


class CountryGroupPack(_Frozen):
    """The country-group pack: named groups per jurisdiction, each member with its dates and sources."""

    pack: PackHeader | None = None
    schema_version: int = 1
    sources: dict[str, Source] = Field(default_factory=dict)
    groups: dict[Jurisdiction, dict[str, CountryGroup]]


__all__ = [
    "OUTLOOK_ORDER",
    "OUTLOOK_TEXT",
    "SEVERITY_ORDER",
    "AppliesTo",
    "Buyer",
    "BuyerKind",
    "BuyerPolicy",
    "CaseByCaseParams",
    "ComplianceResult",
    "ComplianceWarning",
    "CostAdder",
    "CountryGroup",
    "CountryGroupPack",
    "FractionParams",
    "HbmParams",
    "Jurisdiction",
    "Membership",
    "Outlook",
    "Params2022",
    "Params2023",
    "PolicyDecision",
    "Review",
    "Rule",
    "RuleFiring",
    "RulePack",
    "Screening",
    "ScreeningMatch",
    "ScreeningParams",
    "Severity",
    "Suspension",
    "TariffBand",
    "TariffParams",
    "Verdict",
]
