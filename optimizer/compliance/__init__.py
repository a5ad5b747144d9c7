"""Export-compliance engine: rule packs as data, TPP/PD arithmetic, verdicts, entity screening and buyer policy."""

from optimizer.compliance.engine import ComplianceEngine
from optimizer.compliance.loading import engine_from_packs, load_countries, load_engine
from optimizer.compliance.metrics import ChipMetrics, compute_metrics
from optimizer.compliance.results import (
    OUTLOOK_TEXT,
    Buyer,
    BuyerKind,
    BuyerPolicy,
    ComplianceResult,
    ComplianceWarning,
    Outlook,
    PolicyDecision,
    Screening,
    ScreeningMatch,
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
    "Screening",
    "ScreeningMatch",
    "Verdict",
    "compute_metrics",
    "engine_from_packs",
    "load_countries",
    "load_engine",
]
