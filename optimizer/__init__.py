"""Domain core: catalog, compliance, estimator, cost model and the CP-SAT purchase optimizer.

Pure Python plus pydantic, PyYAML (data files only) and OR-Tools; it never reads environment variables
and never imports the service, corpus or prompts packages.

The names in ``__all__`` are the public face used by the service's application layer. The solver entry points
(``recommend``, ``what_if`` and the what-if types) load OR-Tools, so they are imported on first use (PEP 562):
importing the package stays fast for commands that never solve.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from optimizer.catalog import Accelerator, Catalog, Figure, NodeType, PriceRange, load_catalog
from optimizer.compliance import Buyer, BuyerPolicy, ComplianceEngine, ComplianceResult, compute_metrics, load_engine
from optimizer.errors import (
    CatalogError,
    InvalidInputError,
    OptimizerError,
    UnknownCountryError,
    UnknownSkuError,
    UnsupportedPrecisionError,
)
from optimizer.estimator import (
    CostEstimate,
    CostRequest,
    InferenceEstimate,
    InferenceRequest,
    PlanChoice,
    TrainingEstimate,
    TrainingRequest,
    ValidationReport,
    estimate_cost,
    estimate_inference,
    estimate_training,
    load_runs,
    validate_runs,
)
from optimizer.plan import ConsideredOption, PlanItem, PurchasePlan, Relaxation
from optimizer.request import MAX_MONEY, PurchaseRequest
from optimizer.table import EstimateCache
from optimizer.units import parse_date, parse_money, parse_quantity

if TYPE_CHECKING:
    from optimizer.recommend import recommend
    from optimizer.whatif import BreakEven, WhatIfChange, WhatIfResult, what_if

_LAZY = {"recommend": "optimizer.recommend", "what_if": "optimizer.whatif", "WhatIfChange": "optimizer.whatif",
         "WhatIfResult": "optimizer.whatif", "BreakEven": "optimizer.whatif"}

__all__ = [
    "MAX_MONEY",
    "Accelerator",
    "BreakEven",
    "Buyer",
    "BuyerPolicy",
    "Catalog",
    "CatalogError",
    "ComplianceEngine",
    "ComplianceResult",
    "ConsideredOption",
    "CostEstimate",
    "CostRequest",
    "EstimateCache",
    "Figure",
    "InferenceEstimate",
    "InferenceRequest",
    "InvalidInputError",
    "NodeType",
    "OptimizerError",
    "PlanChoice",
    "PlanItem",
    "PriceRange",
    "PurchasePlan",
    "PurchaseRequest",
    "Relaxation",
    "TrainingEstimate",
    "TrainingRequest",
    "UnknownCountryError",
    "UnknownSkuError",
    "UnsupportedPrecisionError",
    "ValidationReport",
    "WhatIfChange",
    "WhatIfResult",
    "compute_metrics",
    "estimate_cost",
    "estimate_inference",
    "estimate_training",
    "load_catalog",
    "load_engine",
    "load_runs",
    "parse_date",
    "parse_money",
    "parse_quantity",
    "recommend",
    "validate_runs",
    "what_if",
]


def __getattr__(name: str) -> Any:
    """Import the solver modules when one of their names is first asked for."""
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'optimizer' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value
