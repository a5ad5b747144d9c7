"""HTTP-only request and response shapes.

Every numeric field of a request body accepts the same notation as the CLI ("70B", "1.4T", "8000万", "$7M"),
and non-finite numbers (JSON ``Infinity``, ``1e309``) are refused with 422.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from service.usecases import (
    CostRequest,
    InferenceRequest,
    InvalidInputError,
    IsoDate,
    PurchasePlan,
    PurchaseRequest,
    Relaxation,
    TrainingRequest,
    WhatIfChange,
    WhatIfResult,
    human_numbers,
    money,
)


class ComplianceCheckCreate(BaseModel):
    """Body of ``POST /v1/compliance/check``."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=100, description="Accelerator id or alias.")
    buyer_country: str = Field(min_length=2, max_length=60, description="ISO 3166-1 alpha-2 code.")
    buyer_kind: Literal["commercial", "state_funded"] = "commercial"
    headquarters_country: str | None = Field(None, min_length=2, max_length=60)
    date: IsoDate
    buyer_name: str | None = Field(None, min_length=1, max_length=200,
                                   description="Buyer's legal name, screened against the Entity List.")
    buyer_parent: str | None = Field(None, min_length=1, max_length=200,
                                     description="Buyer's parent (50 % owner), screened for the Affiliates rule.")
    via_country: str | None = Field(None, min_length=2, max_length=2,
                                    description="Country the items are re-exported or trans-shipped from.")


class RecommendationCreate(human_numbers(PurchaseRequest, "PurchaseRequestBody")):  # type: ignore[misc]
    """Body of ``POST /v1/recommendations``: a purchase request, optionally accepting licence risk."""

    accept_license_risk: bool = Field(
        False, description="Also admit licence-required parts whose outlook is not favourable (not granted yet, case "
        "by case); by default only granted, assured and approval-presumed outlooks are admitted.")


WhatIfChangeBody = human_numbers(WhatIfChange, "WhatIfChangeBody")


class WhatIfCreate(BaseModel):
    """Body of ``POST /v1/recommendations/whatif``: the base request and the change."""

    model_config = ConfigDict(extra="forbid")

    request: RecommendationCreate
    change: WhatIfChangeBody  # type: ignore[valid-type]

    @model_validator(mode="before")
    @classmethod
    def _budget_with_currency(cls, data: Any) -> Any:
        """A changed budget may carry its currency ("¥8000万"); it must be the request's currency."""
        if not isinstance(data, dict) or not isinstance(data.get("change"), dict):
            return data
        budget = data["change"].get("budget")
        if not isinstance(budget, str):
            return data
        try:
            amount, written = money(budget, what="change.budget")
        except InvalidInputError as exc:
            raise ValueError(exc.message) from None
        base = data.get("request", {}).get("budget") if isinstance(data.get("request"), dict) else None
        expected = (base.get("currency") if isinstance(base, dict) else None) or (
            money(base)[1] if isinstance(base, str) else None) or "CNY"
        if written and written != str(expected).upper():
            raise ValueError(f"change.budget is written in {written} but the request is in {expected}")
        return {**data, "change": {**data["change"], "budget": amount}}


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


class RelaxationOut(Relaxation):
    """A relaxation's typed fields plus its sentence in the request's language (``?lang=en|zh``)."""

    pair: list[RelaxationOut] = Field(default_factory=list)  # type: ignore[assignment]
    message: str = Field(description="The change in words, e.g. 'budget must be at least ¥303M (now ¥10.0M)'.")


class PlanOut(PurchasePlan):
    """A purchase plan whose relaxations also carry their wording."""

    relaxations: list[RelaxationOut] = Field(default_factory=list)  # type: ignore[assignment]


class WhatIfOut(WhatIfResult):
    """A what-if whose two plans carry their relaxations' wording."""

    base: PlanOut
    changed: PlanOut
