"""Purchase recommendations and what-ifs."""

from __future__ import annotations

from fastapi import APIRouter

from service import usecases
from service.api.schemas import RecommendationCreate, WhatIfCreate
from service.deps import ContextDep
from service.usecases import PurchasePlan, WhatIfResult

router = APIRouter(prefix="/v1/recommendations", tags=["recommendations"])


@router.post("", response_model=PurchasePlan)
def create_recommendation(body: RecommendationCreate, ctx: ContextDep) -> PurchasePlan:
    """Choose a purchase plan (CP-SAT) with considered options, alternatives and relaxations."""
    return usecases.recommend(ctx, usecases.with_license_risk(body, body.accept_license_risk))


@router.post("/whatif", response_model=WhatIfResult)
def create_whatif(body: WhatIfCreate, ctx: ContextDep) -> WhatIfResult:
    """Re-solve under a change; report the difference and break-even prices."""
    request = usecases.with_license_risk(body.request, body.request.accept_license_risk)
    return usecases.what_if(ctx, request, body.change)
