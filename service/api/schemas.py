"""HTTP-only request and response shapes."""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ComplianceCheckCreate(BaseModel):
    """Body of ``POST /v1/compliance/check``."""

    model_config = ConfigDict(extra="forbid")

    sku: str = Field(min_length=1, max_length=100, description="Accelerator id or alias.")
    buyer_country: str = Field(min_length=2, max_length=60, description="ISO 3166-1 alpha-2 code.")
    buyer_kind: Literal["commercial", "state_funded"] = "commercial"
    headquarters_country: str | None = Field(None, min_length=2, max_length=60)
    date: date


class Health(BaseModel):
    """Liveness answer."""

    status: Literal["ok"] = "ok"
    accelerators: int
    rules: int


class Readiness(BaseModel):
    """Readiness answer: every check is ``ok`` (otherwise a 503 problem lists the failing ones)."""

    status: Literal["ready"] = "ready"
    checks: dict[str, str]
