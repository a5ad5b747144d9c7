"""The application layer: the only caller of ``optimizer`` and ``corpus``.

CLI commands, HTTP routes, the chat agent, batch jobs and the web page translate their input into one of these
calls and present its typed result, so all of them give the same answer to the same question. Every use case
takes the :class:`AppContext` built once by :func:`service.container.build_context` as its first argument;
results are typed values (no printing, no formatting: see :mod:`service.presenters`).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from corpus.errors import CorpusError
from corpus.types import MAX_K, MAX_QUERY_CHARS, IngestReport, Kind, Language, Passage, SearchFilters
from optimizer import (
    MAX_MONEY,
    Accelerator,
    ComplianceResult,
    ConsideredOption,
    CostEstimate,
    CostRequest,
    Figure,
    InferenceEstimate,
    InferenceRequest,
    InvalidInputError,
    OptimizerError,
    PlanChoice,
    PriceRange,
    PurchasePlan,
    PurchaseRequest,
    Relaxation,
    TrainingEstimate,
    TrainingRequest,
    UnknownSkuError,
    ValidationReport,
)
from optimizer.cancel import WorkCancelledError, WorkControl, check_cancelled, checker, commit_point, controlled
from optimizer.compliance import Screening, ScreeningMatch
from optimizer.compliance.schema import OUTLOOK_TEXT
from optimizer.packdiff import PackDiff
from optimizer.packs import DataCurrency
from optimizer.plan import BreakEvenPrice
from optimizer.reasons import Why
from optimizer.risk import RiskReport, RiskSettings, ScenarioSetOut, Shock
from service.usecases.bounds import PHYSICAL_BOUNDS, Bound
from service.usecases.catalog import (
    AcceleratorDetail,
    CatalogEntry,
    Comparison,
    catalog_list,
    catalog_show,
    check_compliance,
    compare,
)
from service.usecases.context import AppContext, Domain, LazyDatabase, LazyDomain
from service.usecases.data import (
    DataStatus,
    ImportResult,
    PackChange,
    PackStatus,
    RollbackResult,
    data_as_of,
    data_diff,
    data_import,
    data_rollback,
    data_status,
    read_pack_file,
)
from service.usecases.estimates import (
    estimate_cost,
    estimate_inference,
    estimate_training,
    validate_estimator,
    validate_serving_estimator,
)
from service.usecases.hedging import (
    DEFAULT_RISK,
    RISK_OBJECTIVES,
    load_risk_file,
    parse_risk,
    recommend_hedged,
    risk_scenarios,
    risk_settings,
    with_risk,
)
from service.usecases.limits import LimitExceededError, check_sweep_size, check_work_limits
from service.usecases.numbers import IsoDate, coerce_numbers, day, fraction, human_numbers, money, quantity, strict_date
from service.usecases.planning import recommend, what_if, whatif_change
from service.usecases.requests import (
    ACCEPT_LICENSE_RISK,
    load_request_file,
    single_workload_request,
    with_buyer_names,
    with_license_risk,
)
from service.usecases.retrieval import evaluate_retrieval, ingest, scrub_paths, search, source_count
from service.usecases.timeline import ComplianceTimeline, compliance_timeline, data_version, month_starts
from service.usecases.training_inputs import model_size, parse_global_batch, training_request_from_flags

if TYPE_CHECKING:
    from optimizer import BreakEven, WhatIfChange, WhatIfResult

_LAZY = {"BreakEven", "WhatIfChange", "WhatIfResult"}  # their module loads OR-Tools: imported on first use

__all__ = [
    "ACCEPT_LICENSE_RISK",
    "DEFAULT_RISK",
    "RISK_OBJECTIVES",
    "RiskReport",
    "RiskSettings",
    "ScenarioSetOut",
    "Shock",
    "OUTLOOK_TEXT",
    "MAX_K",
    "MAX_QUERY_CHARS",
    "MAX_MONEY",
    "Accelerator",
    "AcceleratorDetail",
    "AppContext",
    "BreakEven",
    "BreakEvenPrice",
    "CatalogEntry",
    "Comparison",
    "ComplianceResult",
    "ComplianceTimeline",
    "ConsideredOption",
    "CorpusError",
    "CostEstimate",
    "CostRequest",
    "DataCurrency",
    "DataStatus",
    "Domain",
    "Figure",
    "InferenceEstimate",
    "InferenceRequest",
    "ImportResult",
    "IngestReport",
    "InvalidInputError",
    "Kind",
    "Language",
    "LazyDatabase",
    "LazyDomain",
    "OptimizerError",
    "PackChange",
    "PackDiff",
    "PackStatus",
    "Passage",
    "PlanChoice",
    "PriceRange",
    "PurchasePlan",
    "PurchaseRequest",
    "Relaxation",
    "RollbackResult",
    "Screening",
    "ScreeningMatch",
    "SearchFilters",
    "TrainingEstimate",
    "TrainingRequest",
    "UnknownSkuError",
    "Why",
    "ValidationReport",
    "WhatIfChange",
    "WhatIfResult",
    "catalog_list",
    "catalog_show",
    "check_compliance",
    "coerce_numbers",
    "compare",
    "compliance_timeline",
    "data_diff",
    "data_import",
    "data_rollback",
    "data_as_of",
    "data_status",
    "data_version",
    "day",
    "estimate_cost",
    "estimate_inference",
    "estimate_training",
    "evaluate_retrieval",
    "fraction",
    "human_numbers",
    "ingest",
    "load_request_file",
    "load_risk_file",
    "parse_risk",
    "recommend_hedged",
    "risk_scenarios",
    "risk_settings",
    "with_risk",
    "model_size",
    "money",
    "month_starts",
    "parse_global_batch",
    "quantity",
    "read_pack_file",
    "recommend",
    "scrub_paths",
    "search",
    "single_workload_request",
    "source_count",
    "training_request_from_flags",
    "validate_estimator",
    "validate_serving_estimator",
    "what_if",
    "whatif_change",
    "with_buyer_names",
    "with_license_risk",
    "WorkCancelledError",
    "WorkControl",
    "controlled",
    "Bound",
    "IsoDate",
    "PHYSICAL_BOUNDS",
    "strict_date",
    "LimitExceededError",
    "check_sweep_size",
    "check_work_limits",
    "check_cancelled",
    "checker",
    "commit_point",
]


def __getattr__(name: str) -> Any:
    """Import the what-if types (and with them OR-Tools) when first asked for."""
    if name not in _LAZY:
        raise AttributeError(f"module 'service.usecases' has no attribute {name!r}")
    value = getattr(importlib.import_module("optimizer.whatif"), name)
    globals()[name] = value
    return value
