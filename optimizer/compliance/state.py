"""The working state of one compliance check, and the small helpers every evaluator uses to record what fired."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from optimizer.catalog import Accelerator
from optimizer.compliance.metrics import ChipMetrics
from optimizer.compliance.results import Buyer, ComplianceWarning, CostAdder, RuleFiring, ScreeningMatch
from optimizer.compliance.schema import Rule
from optimizer.reasons import Why


@dataclass
class EvalState:
    """Working state while one check is evaluated: what is known about the part and buyer, and what fired."""

    acc: Accelerator
    metrics: ChipMetrics
    buyer: Buyer
    subject: bool
    """The part is subject to the EAR (US origin; foreign-direct-product status of non-US parts is not decided)."""
    classification: str = "not_controlled"
    equivalent_tier: str | None = None
    equivalent_lines: tuple[str, ...] = ()
    firings: list[RuleFiring] = field(default_factory=list)
    warnings: list[ComplianceWarning] = field(default_factory=list)
    adders: list[CostAdder] = field(default_factory=list)
    unknowns: list[str] = field(default_factory=list)
    hq_d5: bool = False
    matches: list[ScreeningMatch] = field(default_factory=list)
    affiliates: str = "not_applicable"


def firing(rule: Rule, extra_citations: tuple[str, ...] = (), **fields: Any) -> RuleFiring:
    """A firing of ``rule`` carrying its id, title, jurisdiction and citations (plus membership sources)."""
    cites = rule.citations + tuple(c for c in extra_citations if c not in rule.citations)
    return RuleFiring(rule_id=rule.id, title=rule.title, jurisdiction=rule.jurisdiction, citations=cites, **fields)


def warn(st: EvalState, rule: Rule, severity: str | None, text: str | None = None, why: Why | None = None,
         extra_citations: tuple[str, ...] = ()) -> None:
    """Record a warning of ``rule`` (nothing when the severity is None: the rule does not concern this buyer)."""
    if severity is None:
        return
    cites = rule.citations + tuple(c for c in extra_citations if c not in rule.citations)
    st.warnings.append(
        ComplianceWarning(
            rule_id=rule.id,
            severity=severity,  # type: ignore[arg-type]
            text=text or rule.text or rule.title,
            citations=cites,
            why=why,
        )
    )


def applies(rule: Rule, st: EvalState) -> bool:
    """The rule's ``applies_to`` filter holds for this part (no filter: it holds)."""
    f = rule.applies_to
    if f is None:
        return True
    if f.skus and st.acc.id not in f.skus:
        return False
    if f.us_origin is not None and f.us_origin != st.subject:
        return False
    if f.classification and st.classification not in f.classification:
        return False
    return f.datacenter is None or f.datacenter == st.acc.datacenter


def replace_firing(st: EvalState, old: RuleFiring, new: RuleFiring) -> None:
    """Put ``new`` where ``old`` was (a later rule modifies an earlier firing)."""
    st.firings[st.firings.index(old)] = new


def fmt(v: float | None, digits: int = 0) -> str:
    """A number for an arithmetic line ('unknown' when missing)."""
    return "unknown" if v is None else f"{v:.{digits}f}"


__all__ = ["EvalState", "applies", "firing", "fmt", "replace_firing", "warn"]
