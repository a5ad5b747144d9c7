"""Export-compliance engine: rule packs as data, TPP/PD arithmetic, verdicts and buyer policy."""

from optimizer.compliance.engine import ComplianceEngine, load_countries, load_engine
from optimizer.compliance.metrics import ChipMetrics, compute_metrics
from optimizer.compliance.schema import (
    OUTLOOK_TEXT,
    Buyer,
    BuyerKind,
    BuyerPolicy,
    ComplianceResult,
    ComplianceWarning,
    Outlook,
    PolicyDecision,
    Verdict,
)

__all__ = [
    "OUTLOOK_TEXT",
    "Buyer",
    "BuyerKind",
    "BuyerPolicy",
    "ChipMetrics",
    "ComplianceEngine",
    "ComplianceResult",
    "ComplianceWarning",
    "Outlook",
    "PolicyDecision",
    "Verdict",
    "compute_metrics",
    "load_countries",
    "load_engine",
]
