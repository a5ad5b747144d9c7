"""HTTP-only request and response shapes.

Every numeric field of a request body accepts the same notation as the CLI ("70B", "1.4T", "8000万", "$7M"),
and non-finite numbers (JSON ``Infinity``, ``1e309``) are refused with 422.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from service.usecases import (
    CostRequest,
    InferenceRequest,
    PurchaseRequest,
    TrainingRequest,
    WhatIfChange,
    human_numbers,
)


class ComplianceCheckCreate(BaseModel):
    """Body of ``POST /v1/compliance/check``."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=100, description="Accelerator id or alias.")
    buyer_country: str = Field(min_length=2, max_length=60, description="ISO 3166-1 alpha-2 code.")
    buyer_kind: Literal["commercial", "state_funded"] = "commercial"
    headquarters_country: str | None = Field(None, min_length=2, max_length=60)
    date: date


class RecommendationCreate(human_numbers(PurchaseRequest, "PurchaseRequestBody")):  # type: ignore[misc]
    """Body of ``POST /v1/recommendations``: a purchase request, optionally accepting licence risk."""

    accept_license_risk: bool = Field(
        False, description="Admit parts whose export licence outlook is not favourable (with a risk premium).")


WhatIfChangeBody = human_numbers(WhatIfChange, "WhatIfChangeBody")


class WhatIfCreate(BaseModel):
    """Body of ``POST /v1/recommendations/whatif``: the base request and the change."""

    model_config = ConfigDict(extra="forbid")

    request: RecommendationCreate
    change: WhatIfChangeBody  # type: ignore[valid-type]


TrainingEstimateCreate = human_numbers(TrainingRequest, "TrainingEstimateCreate")
InferenceEstimateCreate = human_numbers(InferenceRequest, "InferenceEstimateCreate")
CostEstimateCreate = human_numbers(CostRequest, "CostEstimateCreate")


class Health(BaseModel):
    """Liveness answer."""

    status: Literal["ok"] = "ok"
    accelerators: int
    rules: int


class Readiness(BaseModel):
    """Readiness answer: every check is ``ok`` (otherwise a 503 problem lists the failing ones)."""

    status: Literal["ready"] = "ready"
    checks: dict[str, str]
